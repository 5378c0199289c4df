import type { FastifyRequest } from "fastify";
import { commonError, type AppError } from "../errors.ts";

/** Node socket errors meaning the database server cannot be reached. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);
/** SQLSTATEs of a server that is shutting down, starting up or out of connections. */
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);
const MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /cannot use a pool after calling end/i,
  /client has encountered a connection error/i,
  /pglite is closed/i,
];

/**
 * Whether an error (or anything in its `cause` chain, drizzle wraps driver errors) says the database is
 * unreachable rather than that a query was wrong: those become 503 SERVICE_UNAVAILABLE, never 500.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 5) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (
    typeof e.code === "string" &&
    (SOCKET_CODES.has(e.code) || SQLSTATES.has(e.code) || e.code.startsWith("08"))
  ) {
    return true;
  }
  if (typeof e.message === "string" && MESSAGES.some((m) => m.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1)))
    return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

/**
 * For `createHttpServer({ mapError })`: an unreachable database is an outage, not a bug, so every service
 * answers it 503 (retryable, Retry-After 5) instead of the edge's logged 500.
 */
export function databaseOutageAs503(error: unknown, request: FastifyRequest): AppError | undefined {
  if (!isDatabaseUnavailable(error)) return undefined;
  request.log.warn({ err: error }, "database unavailable");
  return commonError("SERVICE_UNAVAILABLE", { headers: { "retry-after": "5" } });
}
