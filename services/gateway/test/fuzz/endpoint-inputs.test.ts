import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { skipUnless } from "@mimascota/shared/testing/services";
import { ENDPOINTS } from "./support/endpoints.ts";
import { FUZZ_2FA_EMAIL, FUZZ_USER, startFuzzPlatform, type FuzzPlatform } from "./support/fuzz-platform.ts";
import { fuzzRequests } from "./support/fuzz-run.ts";
import { endpointCase } from "./support/request-arbitraries.ts";

/**
 * Every endpoint's body, query and headers, fuzzed through the gateway into the auth service on PostgreSQL:
 * no input gets a 5xx, an unknown code or a leaked internal, and no rejected input changes a row.
 */
describe(
  "fuzzing every endpoint through the gateway",
  { skip: await skipUnless("postgres", "redis") },
  () => {
    let platform: FuzzPlatform;
    before(async () => {
      platform = await startFuzzPlatform();
    });
    after(() => platform?.close());

    for (const endpoint of ENDPOINTS) {
      it(`${endpoint.method} ${endpoint.path}: any body, query and headers get a clean answer and rejections change nothing`, async (t) => {
        const cases = endpointCase(endpoint, platform.user).map((c) => ({ ...c, guarded: endpoint.guarded }));
        await fuzzRequests(t, platform, cases, 0.5);
      });
    }

    it("no generated field took effect beyond the rules: no fuzz-made account is verified or has 2FA", async () => {
      const result = await platform.auth.database.db.execute(sql`
      select count(*)::int as n from users
      where email not in (${FUZZ_USER.email}, ${FUZZ_2FA_EMAIL}) and (email_verified_at is not null or two_factor_enabled_at is not null)`);
      assert.equal((result as { rows: { n: number }[] }).rows[0]?.n, 0);
    });

    it("the fuzz account still works: its token is accepted and its password unchanged", async () => {
      const me = await platform.gateway.fetch("/api/v1/auth/me", {
        headers: { authorization: `Bearer ${platform.user.accessTokens[0]}` },
      });
      assert.equal(me.status, 200);
      const login = await platform.gateway.fetch("/api/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(FUZZ_USER),
      });
      assert.equal(login.status, 200);
    });
  },
);
