import type { FastifyInstance, preHandlerAsyncHookHandler } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { problemResponses } from "@mimascota/shared/openapi/problem-responses";
import { changesOf, profileInput } from "../domain/profile-fields.ts";
import type { ProfileService } from "../services/profile.service.ts";
import { callerOf } from "./authenticate.ts";
import { profileResponse, toProfileResponse } from "./profile-view.ts";

export interface ProfileRouteDeps {
  profiles: ProfileService;
  authenticate: preHandlerAsyncHookHandler;
  publicApiUrl: string;
  /**
   * Body limit of PUT /{id}: the gateway routes everything under /api/v1/profiles/ with the photo upload's
   * limit, so this route reads such a body and refuses it by validation instead of cutting the connection.
   */
  underPrefixBodyLimit: number;
}

const PREFIX = "/api/v1/profiles";
const tags = ["profiles"];
const security = [{ bearer: [] }];
const unauthorized = { 401: ["UNAUTHORIZED"] } as const;

/** The caller's own profile: read, create or update, the original's list. Personal data: never cached. */
export function registerProfileRoutes(app: FastifyInstance, deps: ProfileRouteDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const view = (row: Parameters<typeof toProfileResponse>[0]) => toProfileResponse(row, deps.publicApiUrl);
  app.addHook("onSend", async (request, reply) => {
    if (request.url.startsWith(PREFIX) && !request.url.startsWith(`${PREFIX}/photos/`)) {
      reply.header("cache-control", "no-store");
    }
  });

  typed.get(
    `${PREFIX}/me`,
    {
      preHandler: deps.authenticate,
      schema: {
        tags,
        summary:
          "The signed-in user's profile (created from the token if the registration has not arrived yet)",
        security,
        response: { 200: profileResponse, ...problemResponses(unauthorized, { withBody: false }) },
      },
    },
    async (request) => view(await deps.profiles.me(callerOf(request))),
  );

  typed.post(
    PREFIX,
    {
      preHandler: deps.authenticate,
      schema: {
        tags,
        summary: "Create or update the signed-in user's profile (never anyone else's)",
        description:
          "201 when it was created, 200 when updated. `user_id`, `email` and `role` come from the account.",
        security,
        body: profileInput,
        response: {
          200: profileResponse,
          201: profileResponse,
          ...problemResponses({ ...unauthorized, 400: ["UNDERAGE"] }),
        },
      },
    },
    async (request, reply) => {
      const { row, created } = await deps.profiles.save(callerOf(request), changesOf(request.body));
      return reply.status(created ? 201 : 200).send(view(row));
    },
  );

  typed.put(
    `${PREFIX}/:id`,
    {
      preHandler: deps.authenticate,
      bodyLimit: deps.underPrefixBodyLimit,
      schema: {
        tags,
        summary: "Update a profile the signed-in user owns",
        security,
        params: z.object({ id: z.uuid() }),
        body: profileInput,
        response: {
          200: profileResponse,
          ...problemResponses({ ...unauthorized, 400: ["UNDERAGE"], 404: ["PROFILE_NOT_FOUND"] }),
        },
      },
    },
    async (request) =>
      view(await deps.profiles.update(callerOf(request), request.params.id, changesOf(request.body))),
  );

  typed.get(
    PREFIX,
    {
      preHandler: deps.authenticate,
      schema: {
        tags,
        summary: "The original API's profile list: it only ever holds the signed-in user's own profile",
        security,
        querystring: z.object({
          page: z.coerce.number().int().min(1).max(10_000).default(1),
          size: z.coerce.number().int().min(1).max(100).default(20),
        }),
        response: {
          200: z.object({
            items: z.array(profileResponse),
            page: z.number().int(),
            size: z.number().int(),
            total: z.number().int(),
            pages: z.number().int(),
          }),
          ...problemResponses(unauthorized, { withBody: false }),
        },
      },
    },
    async (request) => {
      const { page, size } = request.query;
      const result = await deps.profiles.list(callerOf(request), page, size);
      return { ...result, items: result.items.map(view) };
    },
  );
}
