import multipart from "@fastify/multipart";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import type { TokenVerifier } from "@mimascota/shared/auth/token-verifier";
import type { Clock } from "@mimascota/shared/clock";
import type { DatabaseHandle } from "@mimascota/shared/db/database";
import { databaseOutageAs503 } from "@mimascota/shared/db/database-errors";
import type { ReadinessCheck } from "@mimascota/shared/readiness";
import { createHttpServer } from "@mimascota/shared/http";
import { swaggerOptions } from "@mimascota/shared/openapi/swagger-options";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import { registerOpsRoutes } from "@mimascota/shared/ops-routes";
import type { ProfilesConfig } from "./config.ts";
import { ProfileMetrics, type ProfileMetricSources } from "./metrics.ts";
import { InboxRepository } from "./repositories/inbox.repository.ts";
import { ObjectDeletionRepository } from "./repositories/object-deletion.repository.ts";
import { ProfileRepository } from "./repositories/profile.repository.ts";
import { authenticate } from "./routes/authenticate.ts";
import { registerPhotoRoutes } from "./routes/photo.routes.ts";
import { registerProfileRoutes } from "./routes/profile.routes.ts";
import { openapiSchemas } from "./routes/profile-view.ts";
import { AccountEventsService } from "./services/account-events.service.ts";
import { PhotoService } from "./services/photo.service.ts";
import { ProfileService } from "./services/profile.service.ts";
import type { ObjectStore } from "./storage/object-store.ts";

/** Room for the multipart envelope around a photo (boundaries, part headers), as the gateway allows. */
const MULTIPART_ENVELOPE_BYTES = 64 * 1024;

/** Everything the profile service needs from the outside world; tests pass fakes or real servers here. */
export interface ProfileDeps {
  config: ProfilesConfig;
  logger: Logger;
  clock: Clock;
  database: DatabaseHandle;
  store: ObjectStore;
  kv: KeyValueStore;
  verifier: TokenVerifier;
  /** Dependencies the service outlives (the event consumer), reported by /ready as degraded when down. */
  degradable?: Record<string, ReadinessCheck>;
  metricSources?: Pick<ProfileMetricSources, "consumerLag">;
}

export interface ProfileApp {
  app: FastifyInstance;
  /** Where account events are delivered (the Kafka consumer, or the in-process bus when embedded). */
  events: AccountEventsService;
  photos: PhotoService;
}

/** The composition root of the profile service: repositories → services → routes, built from `deps`. */
export async function buildProfileApp(deps: ProfileDeps): Promise<ProfileApp> {
  const { config } = deps;
  const app = createHttpServer({
    logger: deps.logger,
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeoutMs: config.http.requestTimeoutMs,
    trustProxy: config.http.trustProxy,
    mapError: databaseOutageAs503,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Multipart bodies are streamed by the photo route with its own limit (PHOTO_MAX_BYTES), not the JSON one.
  await app.register(multipart, { limits: { fileSize: config.photos.maxBytes, files: 1 } });
  await app.register(
    swagger,
    swaggerOptions({
      title: "Mi Mascota profile service",
      description:
        "The signed-in user's profile and photo, with the original Mi Mascota API's snake_case names. Errors " +
        "are RFC 9457 problem details (`application/problem+json`) whose `code` clients branch on.",
      registry: openapiSchemas,
      tags: { profiles: "The caller's own profile and its photo" },
      requestBodies: {
        "post /api/v1/profiles/{id}/photo": {
          required: true,
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                required: ["file"],
                properties: {
                  file: { type: "string", format: "binary", description: "JPEG, PNG or WebP, at most 5 MB" },
                },
              },
            },
          },
        },
      },
    }),
  );
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app
    .withTypeProvider<ZodTypeProvider>()
    .get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  const { db } = deps.database;
  const profilesRepo = new ProfileRepository();
  const deletions = new ObjectDeletionRepository();
  const metrics = new ProfileMetrics({
    ...deps.metricSources,
    pendingObjectDeletions: () => deletions.count(db),
  });
  const inbox = new InboxRepository();
  const profiles = new ProfileService({
    db,
    clock: deps.clock,
    profiles: profilesRepo,
    inbox,
    minimumAge: config.profiles.minimumAge,
  });
  const photos = new PhotoService({
    db,
    clock: deps.clock,
    logger: deps.logger,
    profiles: profilesRepo,
    deletions,
    store: deps.store,
    metrics,
    limits: config.photos,
  });
  const events = new AccountEventsService({
    db,
    clock: deps.clock,
    profiles: profilesRepo,
    inbox,
    photos,
    metrics,
  });

  const guard = authenticate({ verifier: deps.verifier, kv: deps.kv });
  registerProfileRoutes(app, {
    profiles,
    authenticate: guard,
    publicApiUrl: config.links.publicApiUrl,
    underPrefixBodyLimit: config.photos.maxBytes + MULTIPART_ENVELOPE_BYTES,
  });
  registerPhotoRoutes(app, {
    photos,
    authenticate: guard,
    publicApiUrl: config.links.publicApiUrl,
    maxBytes: config.photos.maxBytes,
  });
  registerOpsRoutes(app, {
    required: { database: () => deps.database.ping() },
    // Without the store only photo uploads and downloads fail; profiles themselves still work.
    degradable: { storage: () => deps.store.ping(), kv: () => deps.kv.ping(), ...deps.degradable },
    registry: metrics.registry,
  });
  return { app, events, photos };
}
