import { z } from "zod";

/** What the shared HTTP edge itself may answer on any JSON endpoint, by status. */
const EDGE_CODES: Record<number, readonly string[]> = {
  400: ["VALIDATION_ERROR", "MALFORMED_JSON"],
  413: ["PAYLOAD_TOO_LARGE"],
  415: ["UNSUPPORTED_MEDIA_TYPE"],
  500: ["INTERNAL_ERROR"],
  503: ["SERVICE_UNAVAILABLE"],
};

function problemSchema(codes: readonly string[]) {
  return z
    .object({
      type: z.string(),
      title: z.string(),
      status: z.number().int(),
      detail: z.string(),
      code: z.enum(codes as [string, ...string[]]),
      requestId: z.string(),
      errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    })
    .describe(`RFC 9457 problem details; \`code\` is one of ${codes.join(", ")}`);
}

/**
 * Response schemas for a route's error statuses, so `/openapi.json` lists every code a route can answer
 * with: the route's own codes plus the edge's (validation, malformed JSON, size, media type, 500, 503).
 * `withBody: false` leaves out the codes only a request body can cause.
 */
export function problemResponses(
  own: Partial<Record<number, readonly string[]>>,
  options: { withBody?: boolean } = {},
): Record<number, ReturnType<typeof problemSchema>> {
  const withBody = options.withBody ?? true;
  const byStatus = new Map<number, string[]>();
  for (const [status, codes] of Object.entries(EDGE_CODES)) {
    const s = Number(status);
    if (!withBody && (s === 413 || s === 415)) continue;
    byStatus.set(
      s,
      codes.filter((code) => withBody || code !== "MALFORMED_JSON"),
    );
  }
  for (const [status, codes] of Object.entries(own)) {
    const s = Number(status);
    byStatus.set(s, [...(byStatus.get(s) ?? []), ...(codes ?? [])]);
  }
  return Object.fromEntries([...byStatus].map(([status, codes]) => [status, problemSchema(codes)]));
}
