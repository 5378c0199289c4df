import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { AuthDeps } from "./app.ts";

export type LoginResult =
  "success" | "two_factor_required" | "invalid_credentials" | "locked" | "email_not_verified";

export type RefreshResult = "success" | "invalid" | "stale" | "reused" | "cross_site";

/**
 * One registry per app instance (never prom-client's global one), so two apps in one process, as in tests,
 * count apart. Label values are fixed enums: bounded cardinality.
 */
export class AuthMetrics {
  readonly registry = new Registry();
  readonly logins: Counter<"result">;
  readonly registrations: Counter;
  readonly locks: Counter;
  readonly refreshes: Counter<"result">;
  readonly reuseDetections: Counter;
  readonly twoFactorChecks: Counter<"result">;

  constructor(options: { queueStats?: AuthDeps["queueStats"]; defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.logins = new Counter({
      name: "auth_logins_total",
      help: "Login attempts by result",
      labelNames: ["result"],
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
    this.refreshes = new Counter({
      name: "auth_refreshes_total",
      help: "Refresh attempts by result",
      labelNames: ["result"],
      registers,
    });
    this.reuseDetections = new Counter({
      name: "auth_refresh_token_reuse_total",
      help: "Rotated refresh tokens presented after the grace window (the session was revoked)",
      registers,
    });
    this.twoFactorChecks = new Counter({
      name: "auth_two_factor_checks_total",
      help: "Two-factor code checks by result",
      labelNames: ["result"],
      registers,
    });
    const stats = options.queueStats;
    if (stats) this.#queueGauges(stats, registers);
  }

  #queueGauges(stats: NonNullable<AuthDeps["queueStats"]>, registers: Registry[]): void {
    const pending = new Gauge({
      name: "auth_outbox_pending",
      help: "Outbox events not yet published",
      registers,
    });
    new Gauge({
      name: "auth_outbox_lag_seconds",
      help: "Age of the oldest unpublished outbox event",
      registers,
      // Read at scrape time; a failing source leaves the gauges as they were rather than failing the scrape.
      async collect() {
        const s = await stats.outbox().catch(() => undefined);
        if (!s) return;
        this.set(s.oldestPendingAgeSeconds);
        pending.set(s.pending);
      },
    });
    const dead = new Gauge({
      name: "auth_mail_queue_dead",
      help: "Mails that exhausted their retries",
      registers,
    });
    const age = new Gauge({
      name: "auth_mail_queue_oldest_age_seconds",
      help: "Age of the oldest undelivered mail",
      registers,
    });
    new Gauge({
      name: "auth_mail_queue_depth",
      help: "Mails waiting for delivery",
      registers,
      async collect() {
        const s = await stats.mail().catch(() => undefined);
        if (!s) return;
        this.set(s.pending);
        dead.set(s.dead);
        age.set(s.oldestPendingAgeSeconds);
      },
    });
  }
}
