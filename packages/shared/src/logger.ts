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

export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: redactPaths, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
}

export function createLogger(service: string, level = "info"): Logger {
  return pino(loggerOptions(service, level));
}

export type { Logger };
