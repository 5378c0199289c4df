import { DEFAULT_LOCALE, fillTemplate, type Locale } from "./i18n/locale.ts";
import { commonProblemsEn } from "./i18n/problems.en.ts";
import { commonProblemsEs } from "./i18n/problems.es.ts";
import type { ProblemText, ProblemTexts } from "./i18n/problem-text.ts";

/**
 * One problem+json envelope (RFC 9457) for every service. Each service declares its own codes in a catalogue
 * (code → status) with its texts per language; services throw `AppError`s and the HTTP edge renders them.
 */
export interface ProblemSpec {
  status: number;
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

export type { ProblemText, ProblemTexts };

export interface ProblemExtra {
  errors?: FieldError[];
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  /** A named, more specific detail of the code (`ProblemText.variants`). */
  variant?: string;
  /** Values for the `{name}` placeholders of the detail. */
  params?: Record<string, string | number>;
}

/**
 * An answer, not a fault: an expected refusal (400, 401, 429, an open breaker's 503…) that the HTTP edge
 * renders as problem+json in the caller's language. Stackless: unexpected errors are logged with their own
 * stack before they become an AppError. Its `message` is the English detail, for logs.
 */
export class AppError extends StacklessError {
  override name = "AppError";
  readonly code: string;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly variant: string | undefined;
  readonly params: Record<string, string | number>;
  readonly #texts: ProblemTexts;

  constructor(code: string, status: number, texts: ProblemTexts, extra: ProblemExtra = {}) {
    super(renderText(texts, "en", code, extra).detail);
    this.code = code;
    this.status = status;
    this.#texts = texts;
    this.errors = extra.errors;
    this.headers = extra.headers ?? {};
    this.variant = extra.variant;
    this.params = extra.params ?? {};
  }

  /** Title and detail in `locale`. */
  text(locale: Locale): { title: string; detail: string } {
    return renderText(this.#texts, locale, this.code, this);
  }
}

function renderText(
  texts: ProblemTexts,
  locale: Locale,
  code: string,
  extra: Pick<ProblemExtra, "variant" | "params">,
): { title: string; detail: string } {
  const text = texts[locale][code] ?? texts[locale].INTERNAL_ERROR ?? { title: code, detail: code };
  const template = (extra.variant !== undefined && text.variants?.[extra.variant]) || text.detail;
  return { title: text.title, detail: fillTemplate(template, extra.params) };
}

/** Codes produced by the shared HTTP edge itself; every service's catalogue includes them. */
export const commonProblems = {
  VALIDATION_ERROR: { status: 400 },
  MALFORMED_JSON: { status: 400 },
  MALFORMED_REQUEST: { status: 400 },
  REQUEST_TIMEOUT: { status: 408 },
  UNAUTHORIZED: { status: 401 },
  FORBIDDEN: { status: 403 },
  NOT_FOUND: { status: 404 },
  METHOD_NOT_ALLOWED: { status: 405 },
  PAYLOAD_TOO_LARGE: { status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415 },
  HEADERS_TOO_LARGE: { status: 431 },
  RATE_LIMITED: { status: 429 },
  INTERNAL_ERROR: { status: 500 },
  SERVICE_UNAVAILABLE: { status: 503 },
} as const satisfies Record<string, ProblemSpec>;

export type CommonProblemCode = keyof typeof commonProblems;

const commonTexts: ProblemTexts<CommonProblemCode> = { es: commonProblemsEs, en: commonProblemsEn };

/** An error of the shared edge's own catalogue (the edge builds these before any service is involved). */
export function commonError(code: CommonProblemCode, extra?: ProblemExtra & { status?: number }): AppError {
  return new AppError(code, extra?.status ?? commonProblems[code].status, commonTexts, extra);
}

/**
 * Builds a typed error factory over a service's catalogue (statuses) and its texts in every language, so
 * `problems.error("INVALID_TOKEN")` cannot name a code that has no status or no translation.
 */
export function defineProblems<const T extends Record<string, ProblemSpec>>(
  specs: T,
  texts: ProblemTexts<keyof T & string>,
) {
  const all = { ...commonProblems, ...specs };
  type Code = keyof typeof all & string;
  const allTexts = {
    es: { ...commonTexts.es, ...texts.es },
    en: { ...commonTexts.en, ...texts.en },
  } as ProblemTexts<Code>;
  return {
    specs: all,
    texts: allTexts,
    error(code: Code, extra?: ProblemExtra & { status?: number }) {
      return new AppError(code, extra?.status ?? all[code].status, allTexts, extra);
    },
  };
}

export function problemType(code: string): string {
  return `https://mimascota.app/problems/${code.toLowerCase().replaceAll("_", "-")}`;
}

export function problemBody(
  error: AppError,
  requestId: string,
  locale: Locale = DEFAULT_LOCALE,
): ProblemBody {
  const { title, detail } = error.text(locale);
  return {
    type: problemType(error.code),
    title,
    status: error.status,
    detail,
    code: error.code,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}
