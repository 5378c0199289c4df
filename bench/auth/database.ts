import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase } from "@mimascota/shared/db/database";
import { migrateInfra } from "@mimascota/shared/db/infra-migrations";
import { migrateAuth } from "../../services/auth/src/db/migrations.ts";

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
 * user count too. One statement of three chained inserts over generate_series; no WAL flush wait.
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
    await c.query("analyze");
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
 * EXPLAIN of the hot queries of login, refresh and /me, written as the repositories issue them (drizzle
 * emits the same shapes), with real values from the seeded data. Reads are run (ANALYZE); writes are only
 * planned, so nothing changes.
 */
export async function explainHotQueries(url: string, userCount: number) {
  return withClient(url, async (c) => {
    const probe = Math.ceil(userCount * 0.777);
    const user = await c.query<{ id: string; email: string }>(
      "select id, email from users where email = $1",
      [benchEmail(probe)],
    );
    const token = await c.query<{ id: string; token_hash: string; session_id: string }>(
      `select rt.id, rt.token_hash, rt.session_id from refresh_tokens rt join sessions s on s.id = rt.session_id
       where s.user_id = $1 limit 1`,
      [user.rows[0]?.id],
    );
    const t = token.rows[0];
    const queries: [string, string, unknown[]][] = [
      [
        "login: user by email (UserRepository.getForLogin)",
        `select id, email, password_hash, full_name, locale, email_verified_at, two_factor_enabled_at
         from users where email = $1`,
        [benchEmail(probe)],
      ],
      [
        "login: throttle row (LoginThrottleRepository.lockState)",
        "select failure_count, window_started_at, locked_until from login_throttles where email = $1",
        [benchEmail(probe)],
      ],
      [
        "refresh: token with its session (RefreshTokenRepository.findWithSession)",
        `select rt.id, rt.session_id, rt.expires_at, rt.rotated_at, s.user_id, s.amr, s.expires_at, s.revoked_at
         from refresh_tokens rt inner join sessions s on s.id = rt.session_id where rt.token_hash = $1`,
        [t?.token_hash],
      ],
      [
        "refresh: mark rotated (RefreshTokenRepository.markRotated)",
        "update refresh_tokens set rotated_at = now() where id = $1 and rotated_at is null returning id",
        [t?.id],
      ],
      [
        "refresh: touch session (SessionRepository.touch)",
        "update sessions set last_used_at = now() where id = $1",
        [t?.session_id],
      ],
      [
        "me: profile by id (UserRepository.getProfile)",
        "select id, email, full_name, email_verified_at, two_factor_enabled_at, created_at from users where id = $1",
        [user.rows[0]?.id],
      ],
    ];
    const plans: { label: string; plan: string; usesIndex: boolean }[] = [];
    for (const [label, sql, params] of queries) {
      const analyze = sql.trimStart().startsWith("select") ? "analyze, buffers, " : "";
      const { rows } = await c.query<{ "QUERY PLAN": string }>(
        `explain (${analyze}costs true) ${sql}`,
        params,
      );
      const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
      plans.push({ label, plan, usesIndex: /Index (Only )?Scan/.test(plan) && !/Seq Scan/.test(plan) });
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
