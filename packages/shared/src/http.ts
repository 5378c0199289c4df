import { randomUUID } from "node:crypto";
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { Logger } from "pino";
import { AppError, commonError, commonProblems, problemBody, type FieldError } from "./errors.ts";
import { DEFAULT_LOCALE, localeFromAcceptLanguage } from "./i18n/locale.ts";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const QUIET_PATHS = new Set(["/health", "/ready", "/metrics"]);
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

export interface HttpServerOptions {
  logger: Logger;
  /** Largest accepted request body in bytes; larger ones get 413. */
  bodyLimit?: number;
  /**
   * Largest request head (request line and headers) in bytes, Node's 16 KiB by default; larger ones get 431.
   * A proxy sets it below its upstreams' so that a head it accepts, plus the headers it adds, fits theirs.
   */
  maxHeaderSize?: number;
  /**
   * Time a client has to send its whole request, head and body (default 30 s); then 408 and the connection
   * is closed. Fastify's default is no limit, which lets a client dribble a body for ever.
   */
  requestTimeoutMs?: number;
  /** Trusted proxy setting passed to fastify (addresses, CIDRs, or hop count). */
  trustProxy?: boolean | string | string[];
  /**
   * A service's own mapping, tried before the generic one (e.g. an unreachable database → 503); undefined
   * falls through to `toAppError`.
   */
  mapError?: (error: unknown, request: FastifyRequest) => AppError | undefined;
}

/** The caller's request id if it is safe to echo back, else a fresh one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * A fastify instance with the conventions every service shares: request ids, `nosniff`, problem+json for
 * every failure (including the framework's own 400/404/405/413/415), and no stack or library message ever
 * reaching a client.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    trustProxy: options.trustProxy ?? false,
    requestTimeout,
    http: {
      ...(options.maxHeaderSize === undefined ? {} : { maxHeaderSize: options.maxHeaderSize }),
      // Node looks for timed-out requests every this often (30 s by default, which would double a short limit).
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(requestTimeout / 4))),
    },
    genReqId: (req) => requestIdFrom(req.headers["x-request-id"]),
    // Probes and scrapes would drown the request log; everything else gets its two lines, with the request id.
    logController: new LogController({
      requestIdLogLabel: "requestId",
      disableRequestLogging: (request) => QUIET_PATHS.has(request.url),
    }),
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    // Requests refused before routing still get the envelope and a request id, never fastify's own JSON,
    // which for a bad URL echoes the path back.
    clientErrorHandler: (error, socket) => answerClientError(error, socket, options.logger),
    frameworkErrors: (error, request, reply) => {
      reply.header("x-request-id", request.id);
      reply.header("x-content-type-options", "nosniff");
      void sendProblem(reply, request, toAppError(error, request));
    },
  }) as unknown as FastifyInstance;

  // Only JSON bodies are accepted; fastify's default text/plain parser would let other types through.
  app.removeContentTypeParser("text/plain");

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    reply.header("x-content-type-options", "nosniff");
    enforceBodyDeadline(request.raw, requestTimeout, options.logger);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    const allowed = allowedMethods(app, path);
    if (allowed.length > 0) {
      reply.header("allow", allowed.join(", "));
      return sendProblem(reply, request, commonError("METHOD_NOT_ALLOWED"));
    }
    return sendProblem(reply, request, commonError("NOT_FOUND"));
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    return sendProblem(reply, request, options.mapError?.(error, request) ?? toAppError(error, request));
  });

  return app;
}

/**
 * The methods routed at a request path, for 405 and its Allow header: those of a route for exactly this
 * path, else those of a catch-all `/*` (a proxy's, which takes any path with the methods it forwards).
 * `hasRoute` reads its url as a route pattern, so a path with pattern syntax would be taken for one, and one
 * that is no valid pattern (a `*` before the end) throws: a 500 instead of a 404. No route of ours has those
 * characters.
 */
function allowedMethods(app: FastifyInstance, path: string): string[] {
  if (/[*:]/.test(path)) return [];
  const routed = (url: string) => METHODS.filter((method) => app.hasRoute({ method, url }));
  try {
    const exact = routed(path);
    return exact.length > 0 ? exact : routed("/*");
  } catch {
    return [];
  }
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply
    .status(error.status)
    .type("application/problem+json; charset=utf-8")
    .send(problemBody(error, request.id, localeFromAcceptLanguage(request.headers["accept-language"])));
}

/** Maps framework and unknown errors onto the catalogue. Unknown errors are logged with their stack. */
export function toAppError(error: unknown, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  const e = error as Partial<FastifyError> & { validation?: unknown[]; validationContext?: string };
  if (Array.isArray(e.validation)) {
    const errors = e.validation.map((v) => fieldError(v, e.validationContext));
    return validationError(errors);
  }
  switch (e.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return commonError("MALFORMED_JSON");
    case "FST_ERR_BAD_URL":
      return commonError("MALFORMED_REQUEST");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return commonError("PAYLOAD_TOO_LARGE");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return commonError("UNSUPPORTED_MEDIA_TYPE");
    default:
      break;
  }
  if (e instanceof SyntaxError || (e.statusCode === 400 && e.code?.startsWith("FST_ERR_CTP"))) {
    return commonError("MALFORMED_JSON");
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    // A framework 4xx we have no dedicated code for: keep its status, never its library message.
    return validationError([], e.statusCode);
  }
  request.log.error({ err: error }, "unhandled error");
  return commonError("INTERNAL_ERROR");
}

/**
 * A 400 VALIDATION_ERROR whose detail names the fields to fix, for the people who read it (a front end shows
 * `detail` as it is); `errors` keeps one entry per field for programs.
 */
export function validationError(errors: FieldError[], status = 400): AppError {
  const fields = [...new Set(errors.map((e) => e.path).filter((p) => p !== ""))];
  return commonError("VALIDATION_ERROR", {
    status,
    ...(errors.length > 0 ? { errors } : {}),
    params: { fields: fields.length > 0 ? fields.join(", ") : "body" },
  });
}

function fieldError(v: unknown, context: string | undefined): FieldError {
  const item = v as { instancePath?: string; message?: string };
  const path = (item.instancePath ?? "").replace(/^\//, "").replaceAll("/", ".");
  return { path: path || context || "", message: item.message ?? "Invalid value" };
}

/**
 * Node's requestTimeout stops a request whose head is slow, but once the head is in, a body sent a byte a
 * second keeps the connection (and whatever it holds: an admission token, an upstream socket) for as long as
 * the client likes. So the body gets the rest of the same limit: if it has not fully arrived `timeoutMs`
 * after the head, the client is answered 408 and the connection is closed.
 */
function enforceBodyDeadline(raw: IncomingMessage, timeoutMs: number, logger: Logger): void {
  const declared = raw.headers["content-length"];
  const hasBody =
    (declared !== undefined && declared !== "0") || raw.headers["transfer-encoding"] !== undefined;
  if (!hasBody || raw.complete) return;
  const timer = setTimeout(() => {
    if (raw.complete || raw.socket.destroyed) return;
    answerClientError(
      Object.assign(new Error("request body timeout"), { code: "ERR_HTTP_REQUEST_TIMEOUT" }),
      raw.socket,
      logger,
    );
  }, timeoutMs);
  timer.unref();
  const clear = () => clearTimeout(timer);
  raw.once("end", clear);
  raw.once("close", clear);
}

const CLIENT_ERRORS: Record<string, keyof typeof commonProblems> = {
  HPE_HEADER_OVERFLOW: "HEADERS_TOO_LARGE",
  ERR_HTTP_REQUEST_TIMEOUT: "REQUEST_TIMEOUT",
};

/**
 * Answers a request Node's HTTP parser refused (broken framing, control characters or CRLF in a header, an
 * unknown method, headers over the size limit) on the raw socket, then closes it: no route or hook runs for
 * these, so the request id and nosniff are written here.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  // Like Node's default: never write into a response that has already started on this connection.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  const code = CLIENT_ERRORS[error.code ?? ""] ?? "MALFORMED_REQUEST";
  const spec = commonProblems[code];
  const id = randomUUID();
  // No header has been parsed: the default language.
  logger.debug({ requestId: id, code: error.code }, "malformed request refused");
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(problemBody(commonError(code), id, DEFAULT_LOCALE));
    socket.write(
      `HTTP/1.1 ${spec.status} ${STATUS_CODES[spec.status] ?? "Error"}\r\n` +
        "content-type: application/problem+json; charset=utf-8\r\n" +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${id}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
