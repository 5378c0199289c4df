import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { LabelledCounter } from "@mimascota/shared/metrics/labelled-counter";

/** What the metrics read at scrape time, each optional (the composition root passes what it runs). */
export interface MetricSources {
  /** Outbox lag and mail queue depth. */
  queueStats?: {
    outbox(): Promise<{ pending: number; oldestPendingAgeSeconds: number }>;
    mail(): Promise<{ pending: number; dead: number; oldestPendingAgeSeconds: number }>;
  };
  /** Rows the housekeeper has deleted since start, by table (exported as a counter at scrape time). */
  housekeepingTotals?: () => Record<string, number>;
  /**
   * When the last housekeeping pass finished and how often passes run (HOUSEKEEPING_INTERVAL), published
   * together so the stall alert scales with the interval; absent when housekeeping is off.
   */
  housekeepingSchedule?: { lastPass: () => Date; intervalSeconds: number } | undefined;
}

const LOGIN_RESULTS = [
  "success",
  "two_factor_required",
  "invalid_credentials",
  "locked",
  "email_not_verified",
] as const;
export type LoginResult = (typeof LOGIN_RESULTS)[number];

const REFRESH_RESULTS = ["success", "invalid", "stale", "reused", "cross_site"] as const;
export type RefreshResult = (typeof REFRESH_RESULTS)[number];

const TWO_FACTOR_CHECK_RESULTS = ["totp", "backup_code", "invalid", "blocked"] as const;
export type TwoFactorCheckResult = (typeof TWO_FACTOR_CHECK_RESULTS)[number];

/**
 * One registry per app instance (never prom-client's global one), so two apps in one process, as in tests,
 * count apart. Label values are fixed enums: bounded cardinality.
 */
export class AuthMetrics {
  readonly registry = new Registry();
  readonly logins: LabelledCounter<LoginResult>;
  readonly registrations: Counter;
  readonly locks: Counter;
  readonly refreshes: LabelledCounter<RefreshResult>;
  readonly reuseDetections: Counter;
  readonly twoFactorChecks: LabelledCounter<TwoFactorCheckResult>;

  constructor(
    options: {
      queueStats?: MetricSources["queueStats"];
      housekeepingTotals?: MetricSources["housekeepingTotals"];
      housekeepingSchedule?: MetricSources["housekeepingSchedule"];
      /** argon2 hashes running and waiting for their turn (PasswordHasher.load). */
      passwordHashLoad?: () => { active: number; pending: number };
      defaultMetrics?: boolean;
    } = {},
  ) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.logins = new LabelledCounter({
      name: "auth_logins_total",
      help: "Login attempts by result",
      label: "result",
      values: LOGIN_RESULTS,
      registers,
    });
    this.registrations = new Counter({
      name: "auth_registrations_total",
      help: "Accounts created",
      registers,
    });
    this.locks = new Counter({
      name: "auth_account_locks_total",
      help: "Temporary locks after too many failed logins (unknown emails included)",
      registers,
    });
    this.refreshes = new LabelledCounter({
      name: "auth_refreshes_total",
      help: "Refresh attempts by result",
      label: "result",
      values: REFRESH_RESULTS,
      registers,
    });
    this.reuseDetections = new Counter({
      name: "auth_refresh_token_reuse_total",
      help: "Rotated refresh tokens presented after the grace window (the session was revoked)",
      registers,
    });
    this.twoFactorChecks = new LabelledCounter({
      name: "auth_two_factor_checks_total",
      help: "Two-factor code checks by result",
      label: "result",
      values: TWO_FACTOR_CHECK_RESULTS,
      registers,
    });
    const schedule = options.housekeepingSchedule;
    if (schedule) {
      const { lastPass } = schedule;
      new Gauge({
        name: "auth_housekeeping_last_pass_timestamp_seconds",
        help: "When the last housekeeping pass finished (the service's start until the first), Unix seconds",
        registers,
        collect() {
          this.set(lastPass().getTime() / 1000);
        },
      });
      new Gauge({
        name: "auth_housekeeping_interval_seconds",
        help: "Seconds between housekeeping passes (HOUSEKEEPING_INTERVAL)",
        registers,
      }).set(schedule.intervalSeconds);
    }
    const hashLoad = options.passwordHashLoad;
    if (hashLoad) {
      new Gauge({
        name: "auth_password_hashes",
        help: "argon2 hashes (login, registration, password changes) running and waiting, by state",
        labelNames: ["state"],
        registers,
        collect() {
          const { active, pending } = hashLoad();
          this.set({ state: "running" }, active);
          this.set({ state: "waiting" }, pending);
        },
      });
    }
    const stats = options.queueStats;
    if (stats) this.#queueGauges(stats, registers);
    const totals = options.housekeepingTotals;
    if (totals) {
      new Counter({
        name: "auth_housekeeping_deleted_total",
        help: "Rows deleted by housekeeping, by table",
        labelNames: ["table"],
        registers,
        // The housekeeper keeps the running totals; the counter shows them at scrape time.
        collect() {
          this.reset();
          for (const [table, deleted] of Object.entries(totals())) this.inc({ table }, deleted);
        },
      });
    }
  }

  #queueGauges(stats: NonNullable<MetricSources["queueStats"]>, registers: Registry[]): void {
    const outbox = onePerScrape(() => stats.outbox());
    const mail = onePerScrape(() => stats.mail());
    const gauge = <T>(
      name: string,
      help: string,
      read: () => Promise<T | undefined>,
      pick: (s: T) => number,
    ) =>
      new Gauge({
        name,
        help,
        registers,
        // Read at scrape time; a failing source leaves the gauge as it was rather than failing the scrape.
        async collect() {
          const s = await read();
          if (s !== undefined) this.set(pick(s));
        },
      });
    gauge("auth_outbox_pending", "Outbox events not yet published", outbox, (s) => s.pending);
    gauge(
      "auth_outbox_lag_seconds",
      "Age of the oldest unpublished outbox event",
      outbox,
      (s) => s.oldestPendingAgeSeconds,
    );
    gauge("auth_mail_queue_depth", "Mails waiting for delivery", mail, (s) => s.pending);
    gauge("auth_mail_queue_dead", "Mails that exhausted their retries", mail, (s) => s.dead);
    gauge(
      "auth_mail_queue_oldest_age_seconds",
      "Age of the oldest undelivered mail",
      mail,
      (s) => s.oldestPendingAgeSeconds,
    );
  }
}

/** Several gauges read one source: one query per scrape, not one per gauge. */
function onePerScrape<T>(read: () => Promise<T>): () => Promise<T | undefined> {
  let last: { at: number; value: Promise<T | undefined> } | undefined;
  return () => {
    const now = performance.now();
    if (!last || now - last.at > 1_000) last = { at: now, value: read().catch(() => undefined) };
    return last.value;
  };
}
