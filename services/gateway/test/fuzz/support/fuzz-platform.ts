import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { problems as authProblems } from "../../../../auth/src/errors.ts";
import { signedIn } from "../../../../auth/test/support/session-helpers.ts";
import {
  nextCode,
  passwordStep,
  secondStep,
  twoFactorUser,
} from "../../../../auth/test/support/two-factor-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../../../../auth/test/support/test-app.ts";
import { problems as gatewayProblems } from "../../../src/errors.ts";
import { defaultRouteTable } from "../../../src/routing/default-routes.ts";
import { startTestGateway, type TestGateway } from "../../support/test-gateway.ts";
import type { Credentials } from "./request-arbitraries.ts";

/** Far above anything a fuzz run sends: limits and lockouts are tested elsewhere and would only mask answers. */
const UNLIMITED = "1000000000";

/** Both fuzz accounts share the password, which no generator produces. */
export const FUZZ_2FA_EMAIL = "fuzz-2fa@example.com";
export const FUZZ_USER = { email: "fuzz-owner@example.com", password: "tortuga violeta bajo la lluvia" };

export interface FuzzPlatform {
  auth: AuthTestContext;
  gateway: TestGateway;
  /** The gateway's port, for the raw client. */
  port: number;
  /**
   * Real credentials: a signed-in account, and one with 2FA on (its access token and pending second-step
   * tokens), so the fuzz reaches the guarded endpoints' bodies and the code checks.
   */
  user: Credentials;
  /** A digest of every row a request could create, change or delete (see `stateFingerprint`). */
  fingerprint(): Promise<string>;
  close(): Promise<void>;
}

/** Status of every code a client can receive through the gateway: the auth and gateway catalogues. */
export const KNOWN_CODES: ReadonlyMap<string, number> = new Map(
  [...Object.entries(authProblems.specs), ...Object.entries(gatewayProblems.specs)].map(([code, spec]) => [
    code,
    spec.status,
  ]),
);

/**
 * The auth service on a fresh PostgreSQL database (listening on loopback, in this process) behind a real
 * gateway with the built-in route table and real Redis (rate limits, cache, revocation keys under a private
 * prefix). Every rate limit and the login lockout are raised out of reach.
 */
export async function startFuzzPlatform(
  options: { gatewayEnv?: Record<string, string> } = {},
): Promise<FuzzPlatform> {
  const auth = await createAuthTestContext({
    env: { ACCOUNT_RESPONSE_FLOOR_MS: "0", LOCKOUT_THRESHOLD: UNLIMITED, RESEND_COOLDOWN: "0" },
  });
  let gateway: TestGateway | undefined;
  try {
    await auth.app.listen({ port: 0, host: "127.0.0.1" });
    const authUrl = `http://127.0.0.1:${portOf(auth.app.server.address())}`;
    const limit = Number(UNLIMITED);
    gateway = await startTestGateway({
      routes: defaultRouteTable({
        AUTH_SERVICE_URL: authUrl,
        RATE_LIMIT_WINDOW: 60,
        RATE_LIMIT_LOGIN: limit,
        RATE_LIMIT_REGISTER: limit,
        RATE_LIMIT_PASSWORD_RESET: limit,
        RATE_LIMIT_RESEND: limit,
        RATE_LIMIT_TWO_FACTOR: limit,
        AUTH_BODY_LIMIT_BYTES: 16 * 1024,
        // No profile service here: its routes are not what these tests are about.
        PROFILES_SERVICE_URL: "http://127.0.0.1:9",
        PROFILES_BODY_LIMIT_BYTES: 16 * 1024,
        PROFILES_UPLOAD_LIMIT_BYTES: 5 * 1024 * 1024,
      }),
      jwksUrl: `${authUrl}/.well-known/jwks.json`,
      clock: auth.clock,
      env: { RATE_LIMIT_IP: UNLIMITED, RATE_LIMIT_USER: UNLIMITED, ...options.gatewayEnv },
    });
    const session = await signedIn(auth, FUZZ_USER.email, FUZZ_USER.password);
    const enrolled = await twoFactorUser(auth, FUZZ_2FA_EMAIL, FUZZ_USER.password);
    // Turning 2FA on ends the account's sessions: sign in again, with both factors.
    const step = await passwordStep(auth, FUZZ_2FA_EMAIL, FUZZ_USER.password);
    const second = await secondStep(auth, step, await nextCode(auth, enrolled.secret));
    const twoFactor = second.json<{ accessToken: string }>();
    const twoFactorTokens = [
      await passwordStep(auth, FUZZ_2FA_EMAIL, FUZZ_USER.password),
      await passwordStep(auth, FUZZ_2FA_EMAIL, FUZZ_USER.password),
    ];
    const running = gateway;
    return {
      auth,
      gateway: running,
      port: portOf(running.app.server.address()),
      user: {
        userId: session.userId,
        accessTokens: [session.accessToken, twoFactor.accessToken],
        twoFactorTokens,
      },
      fingerprint: () => stateFingerprint(auth),
      close: async () => {
        await running.close();
        await auth.close();
      },
    };
  } catch (error) {
    await gateway?.close();
    await auth.close();
    throw error;
  }
}

/**
 * One md5 over the rows of every table a request may write. Left out on purpose: failure counters that a
 * rejected request is meant to move (login_throttles, the 2FA failure columns, challenge attempts) and
 * signing keys (rotated by time, not by requests).
 */
async function stateFingerprint(auth: AuthTestContext): Promise<string> {
  const result = await auth.database.db.execute(sql`
    select md5(concat_ws('|',
      (select string_agg(t::text, ',' order by t.id) from users t),
      (select string_agg(t::text, ',' order by t.id) from sessions t),
      (select string_agg(t::text, ',' order by t.id) from refresh_tokens t),
      (select string_agg(t::text, ',' order by t.id) from one_time_tokens t),
      (select string_agg(t::text, ',' order by t.id) from backup_codes t),
      (select string_agg(concat_ws(',', t.user_id, t.secret_sealed, t.confirmed_at, t.last_used_step), ';'
         order by t.user_id) from two_factor_credentials t),
      (select string_agg(concat_ws(',', t.id, t.consumed_at), ';' order by t.id) from two_factor_challenges t),
      (select string_agg(t::text, ',' order by t.id) from outbox_events t),
      (select string_agg(t::text, ',' order by t.id) from mail_queue t)
    )) as digest`);
  const rows = (result as { rows: { digest: string }[] }).rows;
  return rows[0]?.digest ?? "";
}

function portOf(address: string | AddressInfo | null): number {
  return typeof address === "object" && address ? address.port : 0;
}
