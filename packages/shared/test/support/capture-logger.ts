import { pino, type Logger } from "pino";

export interface CapturedLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger that keeps each JSON line in memory, for tests that check what was (not) logged. */
export function captureLogger(): { logger: Logger; lines: CapturedLine[] } {
  const lines: CapturedLine[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => void lines.push(JSON.parse(line) as CapturedLine) },
  );
  return { logger, lines };
}
