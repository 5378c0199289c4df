import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { revokedSessionKey } from "@mimascota/shared/auth-contract";
import { skipUnless } from "@mimascota/shared/testing/services";
import {
  createProfileTestContext,
  registeredEvent,
  type ProfileTestContext,
} from "../support/test-profiles.ts";

/** The profile as the API returns it (snake_case), as far as these tests read it. */
interface ProfileBody {
  id: string;
  user_id: string;
  email: string | null;
  name: string | null;
  second_name: string | null;
  display_name: string | null;
  role: string | null;
  document_type: string | null;
  document: string | null;
  birth_date: string | null;
  photo_url: string | null;
  ubication: Record<string, string | null> | null;
  city: string | null;
}

interface ProfilePage {
  items: ProfileBody[];
  total: number;
  page: number;
  size: number;
}

/** A problem+json body. */
interface Problem {
  code: string;
  detail: string;
  errors: { path: string }[];
}

/** The contract's profile API, on both databases: the caller's own profile only, validated, snake_case. */
for (const database of ["postgres", "pglite"] as const) {
  describe(
    `profile API (${database})`,
    { skip: database === "postgres" && (await skipUnless("postgres")) },
    () => {
      let ctx: ProfileTestContext;
      before(async () => {
        ctx = await createProfileTestContext({ database });
      });
      after(() => ctx.close());

      const call = async (
        method: "GET" | "POST" | "PUT",
        url: string,
        options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
      ) =>
        ctx.app.inject({
          method,
          url,
          headers: {
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...options.headers,
          },
          ...(options.body !== undefined ? { payload: options.body as object } : {}),
        });

      test("/me after the registration event: the registration's fields under the original names", async () => {
        const userId = randomUUID();
        await ctx.events.handle(registeredEvent(userId, { role: "provider" }));
        const response = await call("GET", "/api/v1/profiles/me", {
          token: await ctx.token(userId, { roles: ["provider"] }),
        });
        assert.equal(response.statusCode, 200);
        assert.equal(response.headers["cache-control"], "no-store");
        const body = response.json<ProfileBody>();
        assert.equal(body.user_id, userId);
        assert.equal(body.email, `${userId}@example.com`);
        assert.equal(body.name, "Ana María");
        assert.equal(body.second_name, "Pérez");
        assert.equal(body.display_name, "Ana María Pérez");
        assert.equal(body.role, "provider");
        assert.equal(body.document_type, "CI");
        assert.equal(body.document, "12345678");
        assert.equal(body.birth_date, "1990-05-17");
        assert.equal(body.photo_url, null);
        assert.deepEqual(body.ubication, {
          department: "Montevideo",
          city: "Montevideo",
          postal_code: "11200",
          street: "Av. 18 de Julio",
          number: "1234",
          apartment: null,
        });
        assert.equal(body.city, "Montevideo", "the original's flat address fields too");
        assert.match(body.id, /^[0-9a-f-]{36}$/);
      });

      test("a flat registration gives a profile with the name only", async () => {
        const userId = randomUUID();
        await ctx.events.handle(registeredEvent(userId, { flat: true }));
        const body = (
          await call("GET", "/api/v1/profiles/me", { token: await ctx.token(userId) })
        ).json<ProfileBody>();
        assert.equal(body.name, "Ana María Pérez");
        assert.equal(body.display_name, "Ana María Pérez");
        assert.equal(body.document, null);
        assert.equal(body.ubication, null);
      });

      test("a sign-in before the event gets a profile from the token; the late event fills it without undoing edits", async () => {
        const userId = randomUUID();
        const token = await ctx.token(userId, { email: "early@example.com", roles: ["provider"] });
        const early = await call("GET", "/api/v1/profiles/me", { token });
        assert.equal(early.statusCode, 200);
        assert.equal(early.json<ProfileBody>().email, "early@example.com");
        assert.equal(early.json<ProfileBody>().role, "provider");
        assert.equal(early.json<ProfileBody>().name, null);
        const edit = await call("POST", "/api/v1/profiles", { token, body: { display_name: "Anita" } });
        assert.equal(edit.statusCode, 200, "the profile exists: updated, not created");
        await ctx.events.handle(registeredEvent(userId, { role: "provider" }));
        const late = (await call("GET", "/api/v1/profiles/me", { token })).json<ProfileBody>();
        assert.equal(late.display_name, "Anita", "the user's edit stays");
        assert.equal(late.name, "Ana María", "what was missing is filled in");
        assert.equal(late.document, "12345678");
        assert.equal(late.id, early.json<ProfileBody>().id);
      });

      test("POST creates the caller's profile (201), then updates it (200); the body cannot name another user", async () => {
        const userId = randomUUID();
        const victim = randomUUID();
        await ctx.events.handle(registeredEvent(victim));
        const token = await ctx.token(userId);
        const created = await call("POST", "/api/v1/profiles", {
          token,
          body: {
            name: "Juan",
            user_id: victim,
            email: "evil@example.com",
            role: "provider",
            document_type: "CI",
            document: "1.234.567-8",
          },
        });
        assert.equal(created.statusCode, 201);
        assert.equal(created.json<ProfileBody>().user_id, userId);
        assert.equal(
          created.json<ProfileBody>().email,
          `${userId}@example.com`,
          "email comes from the account",
        );
        assert.equal(created.json<ProfileBody>().role, "client", "role comes from the account");
        assert.equal(created.json<ProfileBody>().document, "12345678", "a cédula is kept as its digits");
        const updated = await call("POST", "/api/v1/profiles", {
          token,
          body: { ubication: { city: "Salto", postal_code: "50000" } },
        });
        assert.equal(updated.statusCode, 200);
        assert.equal(updated.json<ProfileBody>().city, "Salto");
        assert.equal(updated.json<ProfileBody>().name, "Juan");
        const victimProfile = (
          await call("GET", "/api/v1/profiles/me", { token: await ctx.token(victim) })
        ).json<ProfileBody>();
        assert.equal(victimProfile.name, "Ana María", "the other user's profile is untouched");
      });

      test("PUT /{id}: the owner updates; another user's id and an unknown id are both 404", async () => {
        const owner = randomUUID();
        const other = randomUUID();
        await ctx.events.handle(registeredEvent(owner));
        const ownerToken = await ctx.token(owner);
        const id = (await call("GET", "/api/v1/profiles/me", { token: ownerToken })).json<ProfileBody>().id;
        const ok = await call("PUT", `/api/v1/profiles/${id}`, {
          token: ownerToken,
          body: { second_name: null },
        });
        assert.equal(ok.statusCode, 200);
        assert.equal(ok.json<ProfileBody>().second_name, null);
        const foreign = await call("PUT", `/api/v1/profiles/${id}`, {
          token: await ctx.token(other),
          body: { name: "Mallory" },
        });
        assert.equal(foreign.statusCode, 404);
        assert.equal(foreign.json<Problem>().code, "PROFILE_NOT_FOUND");
        assert.equal(
          (await call("PUT", `/api/v1/profiles/${randomUUID()}`, { token: ownerToken, body: {} })).statusCode,
          404,
        );
        assert.equal(
          (await call("GET", "/api/v1/profiles/me", { token: ownerToken })).json<ProfileBody>().name,
          "Ana María",
        );
      });

      test("the list holds only the caller's own profile", async () => {
        const userId = randomUUID();
        await ctx.events.handle(registeredEvent(randomUUID()));
        const token = await ctx.token(userId);
        const page1 = await call("GET", "/api/v1/profiles?page=1&size=100", { token });
        assert.equal(page1.statusCode, 200);
        const body = page1.json<ProfilePage>();
        assert.equal(body.items.length, 1);
        assert.equal(body.items[0]!.user_id, userId);
        assert.equal(body.total, 1);
        assert.equal(body.page, 1);
        assert.equal(body.size, 100);
        const page2 = (await call("GET", "/api/v1/profiles?page=2&size=100", { token })).json<ProfilePage>();
        assert.deepEqual(page2.items, []);
        assert.equal((await call("GET", "/api/v1/profiles?size=1000", { token })).statusCode, 400);
      });

      test("every field is validated, and the problem names the fields (Spanish by default, English on request)", async () => {
        const token = await ctx.token(randomUUID());
        const cases: [body: Record<string, unknown>, field: string][] = [
          [{ document_type: "CI", document: "12ab" }, "document"],
          [{ document_type: "Pasaporte", document: "A1" }, "document"],
          [{ document: "12345678" }, "document_type"],
          [{ document_type: "DNI", document: "12345678" }, "document_type"],
          [{ birth_date: "31/02/2000" }, "birth_date"],
          [{ birth_date: "2000-13-01" }, "birth_date"],
          [{ name: "x".repeat(101) }, "name"],
          [{ name: "Ana\u0000" }, "name"],
          [{ name: "Ana\u202eatse" }, "name"],
          [{ name: "R2D2" }, "name"],
          [{ display_name: "A" }, "display_name"],
          [{ postal_code: "1" }, "postal_code"],
          [{ ubication: { city: "" } }, "ubication.city"],
          [{ ubication: { city: "Salto" }, city: "Paysandú" }, "city"],
          [{ ubication: { planet: "Mars" } }, "ubication"],
        ];
        for (const [body, field] of cases) {
          const response = await call("POST", "/api/v1/profiles", { token, body });
          assert.equal(response.statusCode, 400, JSON.stringify(body));
          const problem = response.json<Problem>();
          assert.equal(problem.code, "VALIDATION_ERROR");
          assert.ok(
            problem.errors.some(
              (e: { path: string }) =>
                e.path === field || e.path.startsWith(`${field}.`) || field.startsWith(e.path),
            ),
            `${JSON.stringify(body)} names ${field}: ${JSON.stringify(problem.errors)}`,
          );
          assert.match(response.headers["content-type"] as string, /application\/problem\+json/);
        }
        const spanish = await call("POST", "/api/v1/profiles", { token, body: { birth_date: "2099-01-01" } });
        assert.equal(spanish.statusCode, 400);
        assert.equal(spanish.json<Problem>().code, "UNDERAGE");
        assert.match(spanish.json<Problem>().detail, /al menos 16 años/);
        const english = await call("POST", "/api/v1/profiles", {
          token,
          body: { birth_date: "2099-01-01" },
          headers: { "accept-language": "en" },
        });
        assert.match(english.json<Problem>().detail, /at least 16 years/);
        const unicode = await call("POST", "/api/v1/profiles", {
          token,
          body: { name: "Jose\u0301 Ñandú", street: "Bv. Artigas" },
        });
        assert.equal(unicode.statusCode, 201);
        assert.equal(unicode.json<ProfileBody>().name, "José Ñandú", "stored in NFC");
      });

      test("without a valid token every route is 401, and X-User-Id alone proves nothing", async () => {
        const userId = randomUUID();
        const id = randomUUID();
        const routes: ["GET" | "POST" | "PUT", string][] = [
          ["GET", "/api/v1/profiles/me"],
          ["GET", "/api/v1/profiles"],
          ["POST", "/api/v1/profiles"],
          ["PUT", `/api/v1/profiles/${id}`],
          ["POST", `/api/v1/profiles/${id}/photo`],
        ];
        const expired = await ctx.issuer.token(
          { sub: userId, expiresIn: -3600 },
          ctx.clock.now().getTime() - 7_200_000,
        );
        for (const [method, url] of routes) {
          for (const options of [
            {},
            { headers: { "x-user-id": userId } },
            { token: "not.a.token" },
            { token: expired },
            { token: await ctx.issuer.token({ sub: userId, aud: "someone-else" }) },
          ]) {
            const response = await call(method, url, { ...options, body: method === "GET" ? undefined : {} });
            assert.equal(
              response.statusCode,
              401,
              `${method} ${url} ${JSON.stringify(options).slice(0, 60)}`,
            );
            assert.equal(response.json<Problem>().code, "UNAUTHORIZED");
            assert.match(String(response.headers["www-authenticate"]), /^Bearer/);
          }
        }
      });

      test("a token for one user with X-User-Id of another is refused; a revoked session is refused", async () => {
        const alice = randomUUID();
        const bob = randomUUID();
        await ctx.events.handle(registeredEvent(bob));
        const spoofed = await call("GET", "/api/v1/profiles/me", {
          token: await ctx.token(alice),
          headers: { "x-user-id": bob },
        });
        assert.equal(spoofed.statusCode, 401);
        const token = await ctx.token(alice, { sid: "revoked-session-1" });
        assert.equal((await call("GET", "/api/v1/profiles/me", { token })).statusCode, 200);
        await ctx.kv.set(revokedSessionKey("revoked-session-1"), "1", 60_000);
        assert.equal((await call("GET", "/api/v1/profiles/me", { token })).statusCode, 401);
      });
    },
  );
}
