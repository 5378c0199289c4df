/**
 * What `npm start` says to a person at a terminal: what it is doing while the embedded databases open (a first
 * start creates them, and that is 13 to 40 s of silence otherwise), then where everything is. A pipe, a file, a
 * container's log or NODE_ENV=production get the services' JSON lines only, which log collectors parse.
 */

/** Where the original front end's Vite dev server runs, so the origin the settings below must allow. */
export const FRONT_END_ORIGIN = "http://localhost:5173";

export interface RunningPlatform {
  gateway: string;
  docs: string;
  /** Undefined when the dev mailbox page is off. */
  mailbox: string | undefined;
  publicAppUrl: string;
  /** The gateway's CORS_ORIGINS. */
  corsOrigins: readonly string[];
  /** The auth service's ALLOWED_ORIGINS: who may present the refresh cookie. */
  allowedOrigins: readonly string[];
}

interface Output {
  isTTY?: boolean;
  write(text: string): unknown;
}

export class StartProgress {
  readonly #out: Output;
  readonly #now: () => number;
  #since: number;

  constructor(out: Output, now: () => number = Date.now) {
    this.#out = out;
    this.#now = now;
    this.#since = now();
  }

  /** Something that takes a while has begun. */
  step(text: string): void {
    this.#since = this.#now();
    this.#out.write(`… ${text}\n`);
  }

  /** The step has ended, with how long it took. */
  done(text: string): void {
    const seconds = ((this.#now() - this.#since) / 1000).toFixed(1);
    this.#out.write(`✓ ${text} (${seconds} s)\n`);
  }

  /** The summary, after the services' last log lines: pino writes those asynchronously. */
  async running(platform: RunningPlatform): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 100));
    this.#out.write(runningSummary(platform));
  }
}

/** Progress for a person at a terminal; undefined (JSON only) for anything else and in production. */
export function startProgressFor(out: Output, nodeEnv: string): StartProgress | undefined {
  return out.isTTY === true && nodeEnv !== "production" ? new StartProgress(out) : undefined;
}

export function runningSummary(platform: RunningPlatform): string {
  const allows = (origins: readonly string[], name: string) =>
    origins.includes(FRONT_END_ORIGIN) ? `${name} allows it` : `add it to ${name}`;
  const lines = [
    "",
    "Mi Mascota is running:",
    `  gateway       ${platform.gateway}`,
    `  API docs      ${platform.docs}`,
    ...(platform.mailbox ? [`  dev mailbox   ${platform.mailbox}`] : []),
    "",
    `Front end on ${FRONT_END_ORIGIN}: set VITE_API_URL=${platform.gateway} in its .env;`,
    `  ${allows(platform.corsOrigins, "CORS_ORIGINS")}, ${allows(platform.allowedOrigins, "ALLOWED_ORIGINS")}` +
      ` (refresh cookie), and mail links open PUBLIC_APP_URL=${platform.publicAppUrl}.`,
    "",
    "Ctrl+C stops it.",
    "",
  ];
  return lines.join("\n");
}
