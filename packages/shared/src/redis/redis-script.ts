import { createHash } from "node:crypto";

/**
 * A Lua script with its SHA1, computed once per process: EVALSHA sends the 40-character digest on every call
 * instead of the whole source. Run it with `RedisConnection.runScript`.
 */
export class RedisScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash("sha1").update(source).digest("hex");
  }
}
