import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { countedSkip, skipUnlessPrograms, uniquePrefix } from "@mimascota/shared/testing/services";
import { hashToken } from "../../services/auth/src/crypto/opaque-token.ts";
import { STRONG_PASSWORD } from "../../services/auth/test/support/account-helpers.ts";
import { login, postJson, refresh, register, signedIn, tokenFromMailbox } from "./support/account-client.ts";
import { migrateDatabase, startInProcessAuth, type InProcessAuth } from "./support/auth-service.ts";
import { PrivatePostgres, postgresBinaries } from "./support/private-postgres.ts";
import { until } from "./support/processes.ts";

interface Answer {
  kind: "register" | "login" | "refresh" | "verify";
  status: number;
  code?: string;
}

/**
 * The auth service (composed as in production) on a private PostgreSQL that crashes (immediate shutdown)
 * under a mixed load and is started again: meanwhile every failing request is a 503 SERVICE_UNAVAILABLE,
 * afterwards the same process serves again, and no row was half written.
 */
describe(
  "PostgreSQL crashed and restarted under load",
  {
    // The crash is a SIGQUIT to the postmaster (PostgreSQL's immediate shutdown), which listens on a Unix socket.
    skip:
      countedSkip(process.platform === "win32" && "the crash needs Unix signals and sockets") ||
      (await skipUnlessPrograms(...postgresBinaries)),
    timeout: 60_000,
  },
  () => {
    const server = new PrivatePostgres();
    let auth: InProcessAuth | undefined;
    const prefix = uniquePrefix("pg-restart");
    const verifiedEmail = `${prefix}-verified@example.com`;
    /** What clients were told succeeded: registrations (202) and refresh tokens handed out (200). */
    const acknowledgedEmails: string[] = [];
    const issuedRefreshTokens: string[] = [];

    /** A short-lived connection per query: the server under test goes away, and a kept client would too. */
    async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        return (await client.query<T>(text, values)).rows;
      } finally {
        await client.end();
      }
    }

    async function verify(email: string): Promise<void> {
      const token = await tokenFromMailbox(auth!.config.DATA_DIR, email, "/verify-email");
      assert.equal((await postJson(auth!.url, "verify-email", { token })).status, 200);
    }

    before(async () => {
      await server.start();
      await migrateDatabase(server.url);
      auth = await startInProcessAuth({ DATABASE_URL: server.url });
    });
    after(async () => {
      try {
        // Bounded, so a shutdown stuck on a leaked connection fails this file instead of hanging the suite.
        await Promise.race([
          auth?.close(),
          sleep(10_000, undefined, { ref: false }).then(() => {
            throw new Error("the auth service did not close within 10 s");
          }),
        ]);
      } finally {
        await server.close();
      }
    });

    it("serves sign-up, verification and sign-in while PostgreSQL is up", async () => {
      assert.equal((await register(auth!.url, verifiedEmail, STRONG_PASSWORD)).status, 202);
      acknowledgedEmails.push(verifiedEmail);
      await verify(verifiedEmail);
      const session = await signedIn(await login(auth!.url, verifiedEmail, STRONG_PASSWORD));
      issuedRefreshTokens.push(session.refreshToken);
    });

    it("answers 503 SERVICE_UNAVAILABLE (never 500) while PostgreSQL is down, and serves again after its restart", async (t) => {
      const answers: Answer[] = [];
      let running = true;
      let counter = 0;
      const record = async (kind: Answer["kind"], response: Response): Promise<Response> => {
        const body = response.status >= 400 ? ((await response.clone().json()) as { code?: string }) : {};
        answers.push({ kind, status: response.status, ...(body.code ? { code: body.code } : {}) });
        return response;
      };
      // Each worker registers new accounts, signs in, refreshes its own session and tries a wrong token.
      const worker = async (w: number) => {
        let refreshToken: string | undefined;
        while (running) {
          const step = counter++ % 4;
          try {
            if (step === 0) {
              const email = `${prefix}-w${w}-${counter}@example.com`;
              const response = await record("register", await register(auth!.url, email, STRONG_PASSWORD));
              if (response.status === 202) acknowledgedEmails.push(email);
            } else if (step === 1 || refreshToken === undefined) {
              const response = await record("login", await login(auth!.url, verifiedEmail, STRONG_PASSWORD));
              if (response.status === 200) refreshToken = (await signedIn(response)).refreshToken;
            } else if (step === 2) {
              const response = await record("refresh", await refresh(auth!.url, refreshToken));
              if (response.status === 200) {
                refreshToken = (await signedIn(response)).refreshToken;
              } else if (response.status === 401) refreshToken = undefined;
            } else {
              await record("verify", await postJson(auth!.url, "verify-email", { token: "B".repeat(43) }));
            }
            if (refreshToken && !issuedRefreshTokens.includes(refreshToken))
              issuedRefreshTokens.push(refreshToken);
          } catch (error) {
            answers.push({ kind: "verify", status: 0, code: String(error) });
          }
          await sleep(10);
        }
      };
      const workers = [0, 1, 2].map(worker);
      try {
        await sleep(1_000);
        const beforeCrash = answers.length;
        await server.crash();
        await sleep(1_500);
        const duringOutage = answers.slice(beforeCrash);
        assert.ok(
          duringOutage.some((a) => a.status === 503),
          "the outage is visible to clients as 503",
        );
        await server.start();
        const afterRestart = answers.length;
        await until(
          () => answers.slice(afterRestart).some((a) => a.kind === "register" && a.status === 202),
          "a registration succeeds again",
          30_000,
        );
      } finally {
        running = false;
        await Promise.all(workers);
      }

      const counts: Record<string, number> = {};
      for (const a of answers) {
        const key = `${a.kind} ${a.status}${a.code ? ` ${a.code}` : ""}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      t.diagnostic(JSON.stringify(counts));
      const unexpected = answers.filter(
        (a) =>
          !(
            (a.status === 503 && a.code === "SERVICE_UNAVAILABLE") ||
            (a.kind === "register" && a.status === 202) ||
            (a.kind === "login" && a.status === 200) ||
            (a.kind === "refresh" && (a.status === 200 || a.status === 401)) ||
            (a.kind === "verify" && a.status === 400 && a.code === "INVALID_TOKEN")
          ),
      );
      assert.deepEqual(unexpected, [], "every answer is the normal one or 503 SERVICE_UNAVAILABLE");
    });

    it("serves a whole account flow again without restarting the service", async () => {
      const email = `${prefix}-after@example.com`;
      assert.equal((await register(auth!.url, email, STRONG_PASSWORD)).status, 202);
      acknowledgedEmails.push(email);
      await verify(email);
      const session = await signedIn(await login(auth!.url, email, STRONG_PASSWORD));
      const rotated = await refresh(auth!.url, session.refreshToken);
      assert.equal(rotated.status, 200);
      issuedRefreshTokens.push(session.refreshToken, (await signedIn(rotated)).refreshToken);
      const ready = await fetch(`${auth!.url}/ready`);
      assert.equal(ready.status, 200);
    });

    it("holds no connection that the crash left checked out of the pool", async () => {
      // Idle now, so every pooled connection must be back in the pool. A leaked one shrinks the pool for good
      // (each crash can take more) and makes graceful shutdown wait on it forever.
      const pool = (auth!.service.database.db as unknown as { $client: pg.Pool }).$client;
      await sleep(200);
      const leaked = pool.totalCount - pool.idleCount;
      assert.equal(leaked, 0, `${leaked} connection(s) checked out and never released`);
    });

    it("left no half-written user, session or token", async () => {
      const count = async (text: string) =>
        (await query<{ n: number }>(`select count(*)::int as n ${text}`))[0]?.n;
      assert.equal(
        await count(`from users u where not exists (
        select 1 from one_time_tokens t where t.user_id = u.id and t.purpose = 'verify_email')`),
        0,
        "every user has its verification token",
      );
      assert.equal(
        await count(`from users u where not exists (
        select 1 from mail_queue m where m.to_address = u.email and m.template = 'verify-email')`),
        0,
        "every user has its verification mail queued",
      );
      assert.equal(
        await count(`from users u where not exists (
        select 1 from outbox_events e where e.key = u.id::text and e.topic = 'user.registered.v1')`),
        0,
        "every user has its user.registered.v1 event",
      );
      assert.equal(
        await count(`from users u where u.email_verified_at is not null and not exists (
        select 1 from outbox_events e where e.key = u.id::text and e.topic = 'user.verified.v1')`),
        0,
        "every verified user has its user.verified.v1 event",
      );
      assert.equal(
        await count(`from outbox_events e where not exists (select 1 from users u where u.id::text = e.key)`),
        0,
        "no event about a user that was never committed",
      );
      assert.equal(
        await count(`from mail_queue m where m.template = 'verify-email'
        and not exists (select 1 from users u where u.email = m.to_address)`),
        0,
        "no verification mail for a user that was never committed",
      );
      assert.equal(
        await count(
          `from sessions s where not exists (select 1 from refresh_tokens r where r.session_id = s.id)`,
        ),
        0,
        "every session has its refresh token",
      );
      assert.equal(
        await count(`from refresh_tokens p where p.rotated_at is not null and not exists (
        select 1 from refresh_tokens c where c.parent_id = p.id)`),
        0,
        "every rotated refresh token has its successor",
      );

      const users = await query<{ email: string }>("select email from users where email = any($1)", [
        acknowledgedEmails,
      ]);
      assert.equal(users.length, acknowledgedEmails.length, "every registration answered 202 was kept");
      const hashes = issuedRefreshTokens.map((token) => hashToken(token));
      const tokens = await query<{ token_hash: string }>(
        "select token_hash from refresh_tokens where token_hash = any($1)",
        [hashes],
      );
      assert.equal(tokens.length, hashes.length, "every refresh token handed to a client was kept");
    });
  },
);
