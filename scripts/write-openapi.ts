/**
 * The OpenAPI documents the services serve (auth, profiles, and the gateway's merged one), for
 * `npm run lint:openapi`. The apps are built in process and never listen; no route runs, so the database and
 * the stores are stand-ins that are never called.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { TokenVerifier } from "@mimascota/shared/auth/token-verifier";
import { systemClock } from "@mimascota/shared/clock";
import type { DatabaseHandle } from "@mimascota/shared/db/database";
import { MemoryKeyValueStore } from "@mimascota/shared/kv/memory-key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import type { OpenApiDocument } from "@mimascota/shared/openapi/document";
import { buildApp as buildAuthApp } from "../services/auth/src/app.ts";
import { loadAuthConfig } from "../services/auth/src/config.ts";
import { loadGatewayConfig } from "../services/gateway/src/config.ts";
import { mergeDocuments } from "../services/gateway/src/docs/merge-documents.ts";
import { Router } from "../services/gateway/src/routing/router.ts";
import { buildProfileApp } from "../services/profiles/src/app.ts";
import { loadProfilesConfig } from "../services/profiles/src/config.ts";
import type { ObjectStore } from "../services/profiles/src/storage/object-store.ts";

// Repositories prepare their queries when built: every property and call answers another stand-in.
const unused: unknown = new Proxy(() => unused, {
  get: (_target, name) => (name === "then" ? undefined : unused),
  apply: () => unused,
});
const database = { db: unused, kind: "pglite", ping: async () => {}, close: async () => {} };

async function documentOf(app: FastifyInstance): Promise<OpenApiDocument> {
  await app.ready();
  const doc = app.swagger() as unknown as OpenApiDocument;
  await app.close();
  return doc;
}

/** Writes `auth.openapi.json`, `profiles.openapi.json` and `gateway.openapi.json` into `folder`. */
export async function writeOpenApiDocuments(folder: string): Promise<void> {
  const env = { NODE_ENV: "development", LOG_LEVEL: "silent", DATA_DIR: join(folder, "data") };
  const logger = createLogger("openapi", "silent");
  const kv = new MemoryKeyValueStore();
  const common = { logger, clock: systemClock, database: database as DatabaseHandle, kv };
  const auth = await documentOf(await buildAuthApp({ ...common, config: loadAuthConfig(env) }));
  const { app: profilesApp } = await buildProfileApp({
    ...common,
    config: loadProfilesConfig(env),
    store: unused as ObjectStore,
    verifier: unused as TokenVerifier,
  });
  const profiles = await documentOf(profilesApp);
  const gatewayConfig = loadGatewayConfig(env);
  const router = new Router(gatewayConfig.routeTable, { bodyLimit: gatewayConfig.http.bodyLimitBytes });
  const gateway = mergeDocuments(
    [
      { upstream: "auth", document: auth },
      { upstream: "profiles", document: profiles },
    ],
    router,
  );
  for (const [name, doc] of Object.entries({ auth, profiles, gateway })) {
    writeFileSync(join(folder, `${name}.openapi.json`), `${JSON.stringify(doc, null, 2)}\n`);
  }
  await kv.close();
}
