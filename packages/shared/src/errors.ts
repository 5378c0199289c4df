/**
 * One problem+json envelope (RFC 9457) for every service. Each service declares its own codes in a catalogue
 * (code → status and title); services throw `AppError`s and the HTTP edge renders them.
 */
export interface ProblemSpec {
  status: number;
  title: string;
}

export interface FieldError {
  path: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  errors?: FieldError[];
}

/**
 * An error that is control flow, not a fault, so it carries no stack trace: nothing reads one, and walking
 * the frames was ~5 % of the gateway's CPU per refusal for each such error built, at a rate that whoever
 * floods it with bad tokens or over-limit requests gets to choose. Every other error keeps its stack.
 */
export class StacklessError extends Error {
  constructor(message: string) {
    const stackFrames = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackFrames;
  }
}

/**
 * An answer, not a fault: an expected refusal (400, 401, 429, an open breaker's 503…) that the HTTP edge
 * renders as problem+json. Stackless: unexpected errors are logged with their own stack before they become
 * an AppError.
 */
export class AppError extends StacklessError {
  override name = "AppError";
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string>;

  constructor(
    code: string,
    spec: ProblemSpec,
    detail?: string,
    extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? spec.title);
    this.code = code;
    this.status = spec.status;
    this.title = spec.title;
    this.errors = extra.errors;
    this.headers = extra.headers ?? {};
  }
}

/** Codes produced by the shared HTTP edge itself; every service's catalogue includes them. */
export const commonProblems = {
  VALIDATION_ERROR: { status: 400, title: "Request validation failed" },
  MALFORMED_JSON: { status: 400, title: "Malformed JSON body" },
  MALFORMED_REQUEST: { status: 400, title: "Malformed HTTP request" },
  REQUEST_TIMEOUT: { status: 408, title: "Request timeout" },
  UNAUTHORIZED: { status: 401, title: "Authentication required" },
  FORBIDDEN: { status: 403, title: "Forbidden" },
  NOT_FOUND: { status: 404, title: "Not found" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Payload too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  HEADERS_TOO_LARGE: { status: 431, title: "Request header fields too large" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL_ERROR: { status: 500, title: "Internal server error" },
  SERVICE_UNAVAILABLE: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, ProblemSpec>;

/**
 * Builds a typed error factory over a catalogue, so `problems.error("INVALID_TOKEN")` cannot name a code that
 * has no status.
 */
export function defineProblems<const T extends Record<string, ProblemSpec>>(specs: T) {
  const all = { ...commonProblems, ...specs };
  type Code = keyof typeof all & string;
  return {
    specs: all,
    error(code: Code, detail?: string, extra?: { errors?: FieldError[]; headers?: Record<string, string> }) {
      return new AppError(code, all[code], detail, extra);
    },
  };
}

export function problemType(code: string): string {
  return `https://mimascota.app/problems/${code.toLowerCase().replaceAll("_", "-")}`;
}

export function problemBody(error: AppError, requestId: string): ProblemBody {
  return {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}
