import { randomBytes, randomUUID } from "node:crypto";
import { PgDialect } from "drizzle-orm/pg-core";
import pg from "pg";
import { openDatabase } from "@mimascota/shared/db/database";
import { migrateInfra } from "@mimascota/shared/db/infra-migrations";
import { migrateAuth } from "../../services/auth/src/db/migrations.ts";
import { passwordLoginGuard } from "../../services/auth/src/repositories/login.repository.ts";
import { rotationStatement } from "../../services/auth/src/repositories/refresh-token.repository.ts";
import { openStatement } from "../../services/auth/src/repositories/session.repository.ts";

export const BENCH_PASSWORD = "tortuga violeta bajo la lluvia";
export const benchEmail = (i: number) => `user${i}@bench.test`;

/** A fresh database on the given server, migrated like production (`npm run migrate`). */
export async function createBenchDatabase(serverUrl: string, dataDir: string) {
  const name = `mm_bench_auth_${randomBytes(4).toString("hex")}`;
  await withClient(serverUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), dataDir });
  try {
    await migrateInfra(handle);
    await migrateAuth(handle);
  } finally {
    await handle.close();
  }
  return {
    name,
    url: url.toString(),
    drop: () => withClient(serverUrl, (c) => c.query(`drop database if exists ${name} with (force)`)),
  };
}

/**
 * Bulk loader: users `from..to` (verified, all with one precomputed argon2id hash), each with one older
 * session whose refresh token was already rotated, so the refresh-token and session tables grow with the
 * user count too. One statement of three chained inserts over generate_series; no WAL flush wait; then
 * VACUUM (ANALYZE).
 */
export async function seedUsers(
  url: string,
  passwordHash: string,
  from: number,
  to: number,
): Promise<number> {
  const started = performance.now();
  await withClient(url, async (c) => {
    await c.query("set synchronous_commit = off");
    await c.query(
      `with new_users as (
         insert into users (id, email, password_hash, locale, email_verified_at, created_at)
         select gen_random_uuid(), 'user' || i || '@bench.test', $1, 'es', now(), now()
         from generate_series($2::int, $3::int) as i
         returning id),
       new_sessions as (
         insert into sessions (id, user_id, amr, created_at, last_used_at, expires_at)
         select gen_random_uuid(), id, '["pwd"]'::jsonb, now(), now(), now() + interval '30 days'
         from new_users
         returning id)
       insert into refresh_tokens (id, session_id, token_hash, created_at, expires_at, rotated_at)
       select gen_random_uuid(), id, encode(sha256(convert_to(id::text, 'UTF8')), 'base64'), now(),
              now() + interval '14 days', now()
       from new_sessions`,
      [passwordHash, from, to],
    );
    // Vacuumed as well as analyzed, as a table in steady state is: otherwise autovacuum (and the first
    // readers setting hint bits) would work through the fresh rows during the measured runs.
    await c.query("vacuum (analyze)");
    // The load's WAL has forced checkpoints; one now keeps the rest of it from being written out during the
    // measured runs (it needs a superuser or pg_checkpoint; without, the runs just start sooner).
    await c.query("checkpoint").catch(() => undefined);
  });
  return (performance.now() - started) / 1000;
}

export async function tableSizes(url: string): Promise<Record<string, number>> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ name: string; n: string }>(
      `select 'users' as name, count(*) as n from users union all
       select 'sessions', count(*) from sessions union all
       select 'refresh_tokens', count(*) from refresh_tokens`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
  });
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the hot statements of login, refresh and /me on the seeded data, all inside
 * one transaction that is rolled back, so the writes run (and show their real plans and timings) but change
 * nothing. The refresh rotation is the repository's own statement (rendered by drizzle); the others are
 * written as the repositories issue them (drizzle emits the same shapes).
 */
export async function explainHotQueries(url: string, userCount: number) {
  return withClient(url, async (c) => {
    const probe = Math.ceil(userCount * 0.777);
    const email = benchEmail(probe);
    const user = await c.query<{ id: string; password_hash: string }>(
      "select id, password_hash from users where email = $1",
      [email],
    );
    const userId = user.rows[0]?.id ?? "";
    const token = await c.query<{ id: string; token_hash: string }>(
      `select rt.id, rt.token_hash from refresh_tokens rt join sessions s on s.id = rt.session_id
       where s.user_id = $1 limit 1`,
      [userId],
    );
    const t = token.rows[0];
    const now = new Date();
    const rotation = new PgDialect().sqlToQuery(
      rotationStatement(t?.token_hash ?? "", now, {
        id: randomUUID(),
        tokenHash: randomBytes(32).toString("base64url"),
        idleExpiresAt: new Date(now.getTime() + 14 * 86400_000),
      }),
    );
    // The clean login's one statement, rendered by the repositories' own code (as the service sends it).
    const login = new PgDialect().sqlToQuery(
      openStatement(
        {
          id: randomUUID(),
          userId,
          amr: ["pwd"],
          userAgent: null,
          ip: null,
          createdAt: now,
          expiresAt: new Date(now.getTime() + 30 * 86400_000),
        },
        {
          id: randomUUID(),
          tokenHash: randomBytes(32).toString("base64url"),
          expiresAt: new Date(now.getTime() + 14 * 86400_000),
        },
        passwordLoginGuard({ userId, passwordHash: user.rows[0]?.password_hash ?? "", email, now }),
      ),
    );
    const queries: [string, string, unknown[]][] = [
      [
        "login: user by email (LoginRepository.findUser)",
        `select id, email, password_hash, full_name, locale, email_verified_at, two_factor_enabled_at, created_at
         from users where email = $1`,
        [email],
      ],
      [
        "login: user row share-locked, throttle row, session and first refresh token, one statement (LoginRepository.openSessionAfterPasswordCheck)",
        login.sql,
        login.params,
      ],
      [
        "failed login: throttle row, created or locked (LoginThrottleRepository.lockState)",
        `insert into login_throttles (email, failure_count, window_started_at, lock_count) values ($1, 0, now(), 0)
         on conflict (email) do update set email = excluded.email
         returning failure_count, window_started_at, locked_until, lock_count, last_locked_at`,
        [email],
      ],
      ["refresh: the rotation, one statement (RefreshTokenRepository.rotate)", rotation.sql, rotation.params],
      [
        "me: profile by id (UserRepository.getProfile)",
        "select id, email, full_name, email_verified_at, two_factor_enabled_at, created_at from users where id = $1",
        [userId],
      ],
    ];
    // Reads are index scans; an insert with VALUES has no scan at all. Any sequential scan fails the check.
    const plans: { label: string; plan: string; usesIndex: boolean }[] = [];
    await c.query("begin");
    try {
      // The seeded tokens are all rotated already; this one is made live so the rotation does its writes.
      await c.query("update refresh_tokens set rotated_at = null where id = $1", [t?.id]);
      for (const [label, sql, params] of queries) {
        const { rows } = await c.query<{ "QUERY PLAN": string }>(
          `explain (analyze, buffers, costs true) ${sql}`,
          params,
        );
        const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
        plans.push({ label, plan, usesIndex: !/Seq Scan/.test(plan) });
      }
    } finally {
      await c.query("rollback");
    }
    return plans;
  });
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
