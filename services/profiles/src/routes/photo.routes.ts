import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { commonError } from "@mimascota/shared/errors";
import { problemResponses } from "@mimascota/shared/openapi/problem-responses";
import { problems } from "../errors.ts";
import type { PhotoService } from "../services/photo.service.ts";
import { callerOf } from "./authenticate.ts";
import { openapiSchemas, photoUrl } from "./profile-view.ts";

export interface PhotoRouteDeps {
  photos: PhotoService;
  authenticate: preHandlerAsyncHookHandler;
  publicApiUrl: string;
  maxBytes: number;
}

/** A photo's key is random and never reused, so its bytes never change: cache it for a year, everywhere. */
const IMMUTABLE = "public, max-age=31536000, immutable";

const photoBytes = z.any();
openapiSchemas.add(photoBytes, { type: "string", format: "binary" });

/** Photo upload (the owner only) and photo serving (public: an `<img>` sends no token; the URL is random). */
export function registerPhotoRoutes(app: FastifyInstance, deps: PhotoRouteDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.post(
    "/api/v1/profiles/:id/photo",
    {
      preHandler: deps.authenticate,
      schema: {
        tags: ["profiles"],
        summary: "Replace the photo of a profile the signed-in user owns",
        description:
          "`multipart/form-data` with the image in the field `file`: JPEG, PNG or WebP (checked by content, " +
          "not by name), at most 5 MB. It is re-encoded without metadata; the previous photo is deleted.",
        security: [{ bearer: [] }],
        consumes: ["multipart/form-data"],
        params: z.object({ id: z.uuid() }),
        response: {
          200: z.object({ photo_url: z.string() }),
          ...problemResponses({
            400: ["INVALID_PHOTO"],
            401: ["UNAUTHORIZED"],
            404: ["PROFILE_NOT_FOUND"],
            413: ["PHOTO_TOO_LARGE"],
          }),
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const bytes = await readUpload(request, deps.maxBytes);
      const { key } = await deps.photos.upload(caller, request.params.id, bytes);
      return { photo_url: photoUrl(deps.publicApiUrl, key) };
    },
  );

  typed.get(
    "/api/v1/profiles/photos/:file",
    {
      schema: {
        tags: ["profiles"],
        summary: "A profile photo (public, immutable: a new photo gets a new URL)",
        params: z.object({ file: z.string().max(64) }),
        response: {
          // Sent as bytes (never through the serializer): described by media type for generated clients.
          200: {
            description: "The image, re-encoded as WebP",
            content: { "image/webp": { schema: photoBytes } },
          },
          304: z.null().describe("Not modified"),
          ...problemResponses({ 404: ["PHOTO_NOT_FOUND"] }, { withBody: false }),
        },
      },
    },
    async (request, reply) => {
      const photo = await deps.photos.read(request.params.file);
      const etag = `"${photo.etag}"`;
      reply
        .header("cache-control", IMMUTABLE)
        .header("etag", etag)
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "default-src 'none'; sandbox");
      if (request.headers["if-none-match"] === etag) return reply.status(304).send(null);
      return reply.type(photo.contentType).send(photo.body);
    },
  );
}

/** The one file of a multipart upload, in memory (bounded by `maxBytes`), or the problem saying what is wrong. */
async function readUpload(request: FastifyRequest, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    problems.error("PHOTO_TOO_LARGE", { params: { maxMb: Math.round(maxBytes / (1024 * 1024)) } });
  if (!request.isMultipart()) throw commonError("UNSUPPORTED_MEDIA_TYPE", { variant: "multipart" });
  let file;
  try {
    file = await request.file({ limits: { fileSize: maxBytes, files: 1, fields: 10, parts: 12 } });
  } catch (error) {
    throw multipartError(error) ?? error;
  }
  if (!file || file.fieldname !== "file") throw problems.error("INVALID_PHOTO", { variant: "missing_file" });
  try {
    const bytes = await file.toBuffer();
    if (file.file.truncated) throw tooLarge();
    return bytes;
  } catch (error) {
    if ((error as { code?: string }).code === "FST_REQ_FILE_TOO_LARGE") throw tooLarge();
    throw multipartError(error) ?? error;
  }
}

function multipartError(error: unknown) {
  const code = (error as { code?: string }).code ?? "";
  if (code === "FST_INVALID_MULTIPART_CONTENT_TYPE")
    return commonError("UNSUPPORTED_MEDIA_TYPE", { variant: "multipart" });
  if (code.startsWith("FST_") && (error as { statusCode?: number }).statusCode === 413) {
    return problems.error("INVALID_PHOTO", { variant: "missing_file" });
  }
  if (code === "FST_MULTIPART_PARTS_LIMIT" || code === "FST_FILES_LIMIT" || code === "FST_FIELDS_LIMIT") {
    return problems.error("INVALID_PHOTO", { variant: "missing_file" });
  }
  return undefined;
}
