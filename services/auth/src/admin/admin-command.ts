import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { SupportRequest, SupportResult, SupportService } from "../services/support.service.ts";

/** One `npm run admin` command: its arguments, what it runs and how it reads to a person. */
export interface AdminCommand<T = unknown> {
  name: string;
  /** Positional arguments after `<email>`, by name, for the usage text (e.g. `sessionId`). */
  args?: readonly string[];
  /** A change needs `--actor`; a read records `$USER` when it is not given. */
  changes: boolean;
  summary: string;
  /** Output is JSON whatever `--json` says (an export is data for a program or a file). */
  jsonOnly?: boolean;
  run(support: SupportService, request: SupportRequest, args: readonly string[]): Promise<SupportResult<T>>;
  /** English lines for support staff. */
  describe(value: T, context: { email: string; kv: KeyValueStore }): string[];
}

/** Helps each module declare its commands with their value types checked. */
export const command = <T>(definition: AdminCommand<T>): AdminCommand => definition;

/** `key: value` lines, aligned; dates as ISO-8601 UTC, missing values as "-". */
export function fields(entries: Record<string, unknown>): string[] {
  const width = Math.max(...Object.keys(entries).map((key) => key.length));
  return Object.entries(entries).map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${show(value)}`);
}

export function show(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(show).join(",");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string" || typeof value === "number") return String(value);
  return JSON.stringify(value) ?? "-";
}

/**
 * Where a revocation reaches the gateway: Redis is shared with it; without REDIS_URL the key-value store is
 * this process's memory, so only the database knows.
 */
export function revocationNotice(kv: KeyValueStore, count: number): string[] {
  if (count === 0 || kv.kind === "redis") return [];
  return [
    "Note: REDIS_URL is not set, so the gateway was not told. The sessions are revoked in the database (their",
    "refresh tokens and the auth service's own endpoints are refused now); a gateway in another process keeps",
    "accepting their access tokens until they expire (ACCESS_TOKEN_TTL, 15 min by default). Embedded",
    "(`npm start`, stopped while this ran), restarting it empties its in-memory revocation list the same way.",
  ];
}
