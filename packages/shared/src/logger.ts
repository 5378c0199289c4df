import { pino, type Logger, type LoggerOptions } from "pino";

/**
 * Every path where a secret could travel. pino's redaction is applied on serialisation, so a secret put in a
 * log object by mistake is still replaced.
 */
export const redactPaths = [
  // A registration's profile fields (the original API's nested body) are personal data.
  "baseUser",
  "*.baseUser",
  "profile",
  "*.profile",
  "birthDate",
  "*.birthDate",
  "password",
  "*.password",
  "currentPassword",
  "*.currentPassword",
  "newPassword",
  "*.newPassword",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "twoFactorToken",
  "*.twoFactorToken",
  "secret",
  "*.secret",
  "backupCodes",
  "*.backupCodes",
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "headers.authorization",
  "headers.cookie",
];

/** Query parameters whose values are secrets wherever they appear (a token put in a URL still is one). */
const SECRET_QUERY_PARAMETERS = new Set([
  "token",
  "code",
  "access_token",
  "refresh_token",
  "password",
  "secret",
  "temp_token",
  "temp_session_id",
  "twofactortoken",
]);

/** A URL for a log line: the values of secret query parameters replaced, everything else as sent. */
export function redactUrl(url: string): string {
  const query = url.indexOf("?");
  if (query === -1) return url;
  const redacted = url
    .slice(query + 1)
    .split("&")
    .map((pair) => {
      const name = pair.split("=", 1)[0] ?? "";
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replaceAll("+", " "));
      } catch {
        // A malformed escape: judged as written.
      }
      return SECRET_QUERY_PARAMETERS.has(decoded.toLowerCase()) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, query)}?${redacted.join("&")}`;
}

/** Fastify's request fields, with the URL's secrets redacted. */
function requestSerializer(req: {
  method?: string;
  url?: string;
  host?: string;
  hostname?: string;
  ip?: string;
}) {
  return {
    method: req.method,
    url: typeof req.url === "string" ? redactUrl(req.url) : req.url,
    host: req.host ?? req.hostname,
    remoteAddress: req.ip,
  };
}

export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: redactPaths, censor: "[redacted]" },
    serializers: { req: requestSerializer },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
}

export function createLogger(service: string, level = "info"): Logger {
  return pino(loggerOptions(service, level));
}

export type { Logger };
