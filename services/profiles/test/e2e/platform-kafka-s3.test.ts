import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import sharp from "sharp";
import { listDevMail } from "@mimascota/shared/mail/dev-mailbox";
import { MemoryKeyValueStore } from "@mimascota/shared/kv/memory-key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import {
  createTestDatabase,
  s3TestCredentials,
  serviceUrls,
  skipUnless,
  uniquePrefix,
} from "@mimascota/shared/testing/services";
import { startAuthService, type RunningAuthService } from "../../../auth/src/compose.ts";
import { loadAuthConfig } from "../../../auth/src/config.ts";
import { startGateway, type RunningGateway } from "../../../gateway/src/compose.ts";
import { loadGatewayConfig } from "../../../gateway/src/config.ts";
import { startProfileService, type RunningProfileService } from "../../src/compose.ts";
import { loadProfilesConfig } from "../../src/config.ts";
import { profiles } from "../../src/db/schema.ts";

/** The profile as the API returns it, as far as this test reads it. */
interface ProfileBody {
  id: string;
  user_id: string;
  name: string | null;
  document: string | null;
  birth_date: string | null;
  photo_url: string | null;
}

const PASSWORD = "Tortuga-Violeta-Lluvia-2024!";
const silent = (name: string) => createLogger(name, "silent");

/**
 * The three services as in production, wired by configuration: the auth service publishes to the real Kafka
 * broker through its outbox, the profile service consumes it and stores photos in the real S3-compatible
 * server (S3Proxy), and every call goes through the gateway. Registration → profile, photo upload and
 * serving, then account deletion end to end.
 */
describe(
  "profiles on Kafka and S3, through the gateway",
  { skip: await skipUnless("postgres", "kafka", "s3") },
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mm-platform-"));
    const kv = new MemoryKeyValueStore();
    const databases: { url: string; drop: () => Promise<void> }[] = [];
    let auth: RunningAuthService;
    let profileService: RunningProfileService;
    let gateway: RunningGateway;
    let base: string;

    before(async () => {
      const [authDb, profilesDb] = [await createTestDatabase(), await createTestDatabase()];
      databases.push(authDb, profilesDb);
      const common = {
        NODE_ENV: "test",
        LOG_LEVEL: "silent",
        DATA_DIR: dataDir,
        KAFKA_BROKERS: serviceUrls.kafka,
      };
      const authConfig = loadAuthConfig({
        ...common,
        PORT: "0",
        DATABASE_URL: authDb.url,
        ACCOUNT_RESPONSE_FLOOR_MS: "0",
        HOUSEKEEPING_INTERVAL: "0",
      });
      // The service migrates only embedded databases; a PostgreSQL one is migrated as `npm run migrate` does.
      const { openDatabase } = await import("@mimascota/shared/db/database");
      const { migrateInfra } = await import("@mimascota/shared/db/infra-migrations");
      const { migrateAuth } = await import("../../../auth/src/db/migrations.ts");
      const { migrateProfiles } = await import("../../src/db/migrations.ts");
      for (const [url, migrate] of [
        [
          authDb.url,
          async (h: Awaited<ReturnType<typeof openDatabase>>) => (await migrateInfra(h), migrateAuth(h)),
        ],
        [profilesDb.url, migrateProfiles],
      ] as const) {
        const handle = await openDatabase({ url, dataDir });
        await migrate(handle);
        await handle.close();
      }
      auth = await startAuthService(authConfig, { logger: silent("auth"), kv });
      const authUrl = `http://127.0.0.1:${(auth.app.server.address() as { port: number }).port}`;
      profileService = await startProfileService(
        loadProfilesConfig({
          ...common,
          PORT: "0",
          DATABASE_URL: profilesDb.url,
          AUTH_SERVICE_URL: authUrl,
          KAFKA_CONSUMER_GROUP: uniquePrefix("profiles-e2e"),
          // Other suites publish to these topics on the same broker: start at their end.
          KAFKA_CONSUMER_START: "latest",
          S3_ENDPOINT: serviceUrls.s3,
          S3_BUCKET: uniquePrefix("mm-e2e"),
          S3_CREATE_BUCKET: "true",
          S3_FORCE_PATH_STYLE: "true",
          S3_REGION: s3TestCredentials.region,
          S3_ACCESS_KEY_ID: s3TestCredentials.accessKeyId,
          S3_SECRET_ACCESS_KEY: s3TestCredentials.secretAccessKey,
        }),
        { logger: silent("profiles"), kv },
      );
      const profilesUrl = `http://127.0.0.1:${(profileService.app.server.address() as { port: number }).port}`;
      gateway = await startGateway(
        loadGatewayConfig({
          NODE_ENV: "test",
          LOG_LEVEL: "silent",
          PORT: "0",
          AUTH_SERVICE_URL: authUrl,
          PROFILES_SERVICE_URL: profilesUrl,
          REDIS_URL: "",
          DEV_MAILBOX: "false",
          RATE_LIMIT_REGISTER: "1000",
          RATE_LIMIT_LOGIN: "1000",
        }),
        { logger: silent("gateway"), kv, processMetrics: false },
      );
      base = `http://127.0.0.1:${(gateway.app.server.address() as { port: number }).port}`;
      // The consumer joins its group before anything is published (it starts at the topics' end).
      for (
        let i = 0;
        i < 200 &&
        !(await profileService.consumer!.ping().then(
          () => true,
          () => false,
        ));
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    after(async () => {
      await gateway?.close();
      await profileService?.close();
      await auth?.close();
      for (const db of databases) await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    async function eventually<T>(
      read: () => Promise<T>,
      ok: (v: T) => boolean,
      what: string,
      ms = 30_000,
    ): Promise<T> {
      const deadline = Date.now() + ms;
      for (;;) {
        const value = await read();
        if (ok(value)) return value;
        assert.ok(Date.now() < deadline, `${what}: ${JSON.stringify(value)?.slice(0, 300)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    const json = (body: unknown) => ({ "content-type": "application/json", body: JSON.stringify(body) });
    const post = (path: string, body: unknown, bearer?: string) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        },
        body: json(body).body,
      });
    const get = (path: string, bearer?: string) =>
      fetch(`${base}${path}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

    const seenMails = new Set<string>();

    async function registerVerifyLogin(email: string): Promise<string> {
      const registered = await post("/api/v1/auth/register", {
        baseUser: {
          name: "Ana",
          secondName: "Pérez",
          email,
          password: PASSWORD,
          documentType: "CI",
          document: "45678912",
          ubication: {
            department: "Montevideo",
            city: "Montevideo",
            postalCode: "11200",
            street: "Rivera",
            number: "9",
          },
        },
        client: { birthDate: "04/03/1990" },
      });
      assert.equal(registered.status, 202);
      // A new mail: after an account deletion the same address has an older, now useless, link too.
      const mail = await eventually(
        async () =>
          (await listDevMail(dataDir, 50)).find(
            (m) => m.to.includes(email) && /verify-email/.test(m.text) && !seenMails.has(m.id),
          ),
        (m) => m !== undefined,
        "verification mail",
      );
      seenMails.add(mail!.id);
      const token = new URL(mail!.text.match(/https?:\/\/\S*verify-email\S*/)![0]).searchParams.get("token");
      assert.equal((await post("/api/v1/auth/verify-email", { token })).status, 200);
      const login = await post("/api/v1/auth/login", { email, password: PASSWORD });
      assert.equal(login.status, 200);
      return ((await login.json()) as { accessToken: string }).accessToken;
    }

    function multipart(bytes: Buffer, filename: string) {
      const form = new FormData();
      form.append("file", new Blob([bytes]), filename);
      return form;
    }

    test("registration → profile over Kafka; photo to S3, served cached; delete → everything gone; the email registers again", async () => {
      const email = `${uniquePrefix("ana")}@example.com`;
      const token = await registerVerifyLogin(email);
      const profile = await eventually(
        async () => (await (await get("/api/v1/profiles/me", token)).json()) as ProfileBody,
        (p) => p.document === "45678912",
        "the registration's fields, from the Kafka event",
      );
      assert.equal(profile.name, "Ana");
      assert.equal(profile.birth_date, "1990-03-04");

      // Photo: uploaded through the gateway (streamed), stored in S3, served publicly and cached by the gateway.
      const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#3a7" } })
        .jpeg()
        .toBuffer();
      const upload = await fetch(`${base}/api/v1/profiles/${profile.id}/photo`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: multipart(jpeg, "me.jpg"),
      });
      assert.equal(upload.status, 200, await upload.clone().text());
      const photoUrl = new URL(((await upload.json()) as { photo_url: string }).photo_url);
      const photoPath = photoUrl.pathname;
      const first = await get(photoPath);
      assert.equal(first.status, 200);
      assert.equal(first.headers.get("content-type"), "image/webp");
      assert.match(first.headers.get("cache-control") ?? "", /immutable/);
      const second = await get(photoPath);
      assert.equal(second.headers.get("x-cache"), "HIT", "served from the gateway's cache");
      const key = `photos/${photoPath.split("/").pop()}`;
      assert.ok(await profileService.store.get(key), "the photo is in the S3 bucket");

      // Too large: the profile service's own 413, not a cut connection the gateway would turn into a 502.
      const huge = Buffer.concat([jpeg, Buffer.alloc(6 * 1024 * 1024, 1)]);
      const refused = await fetch(`${base}/api/v1/profiles/${profile.id}/photo`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: multipart(huge, "huge.jpg"),
      });
      assert.equal(refused.status, 413);

      // Account deletion: the session is refused at the gateway at once, then the event removes profile and photo.
      const deleted = await fetch(`${base}/api/v1/auth/me`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ password: PASSWORD }),
      });
      assert.equal(deleted.status, 204);
      const refusedAt = Date.now();
      await eventually(
        async () => (await get("/api/v1/profiles/me", token)).status,
        (s) => s === 401,
        "refused",
        1_000,
      );
      assert.ok(Date.now() - refusedAt < 1_000);
      await eventually(
        () =>
          profileService.database.db
            .select()
            .from(profiles)
            .where(eq(profiles.userId, String(profile.user_id))),
        (rows) => rows.length === 0,
        "profile deleted on user.deleted.v1",
      );
      await eventually(
        () => profileService.store.get(key),
        (o) => o === undefined,
        "photo deleted from S3",
      );
      const direct = `http://127.0.0.1:${(profileService.app.server.address() as { port: number }).port}${photoPath}`;
      assert.equal((await fetch(direct)).status, 404);

      // The same email is free again: a new account, a new profile.
      const again = await registerVerifyLogin(email);
      const fresh = await eventually(
        async () => (await (await get("/api/v1/profiles/me", again)).json()) as ProfileBody,
        (p) => p.document === "45678912",
        "the new account's profile",
      );
      assert.notEqual(fresh.user_id, profile.user_id);
      assert.equal(fresh.photo_url, null);
    });
  },
);
