import type { z } from "zod";

/**
 * For bodies that take one value under several names (the canonical camelCase one and the original Mi Mascota
 * API's, which its front end sends all at once): every name given must carry the same value, or the request
 * is a 400 naming the disagreeing field; with `required`, one of them must be given. Returns the value.
 */
export function agreeing<T>(
  body: Record<string, unknown>,
  names: readonly string[],
  ctx: z.RefinementCtx,
  options: { required: boolean },
): T | undefined {
  const given = names.filter((name) => body[name] !== undefined && body[name] !== null);
  const [first, ...others] = given;
  if (first === undefined) {
    if (options.required) ctx.addIssue({ code: "custom", path: [names[0]!], message: "is required" });
    return undefined;
  }
  for (const name of others) {
    if (body[name] !== body[first]) {
      ctx.addIssue({ code: "custom", path: [name], message: `differs from ${first}` });
    }
  }
  return body[first] as T;
}
