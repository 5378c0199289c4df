import type { RedisConnection } from "@mimascota/shared/redis/redis-connection";
import { RedisScript } from "@mimascota/shared/redis/redis-script";
import type { Admission, AdmissionStore } from "./admission-store.ts";
import type { LimitCheck, LimitState } from "./gcra.ts";

/**
 * gcraStep (gcra.ts) for every limit, atomically, with the revocation check: KEYS[1] is the revocation key,
 * KEYS[2..] the limit keys; ARGV = now, has-session flag, then limit and window (ms) per key. Returns
 * {status, remaining, resetMs, retryAfterMs, ...} with status 1 admitted, 0 limited, -1 revoked. Nothing is
 * written unless every limit admits the request and the session is not revoked, so a refused request costs
 * no quota (its limits are still reported, for the headers).
 */
const ADMIT = new RedisScript(`
local now = tonumber(ARGV[1])
local revoked = ARGV[2] == '1' and redis.call('EXISTS', KEYS[1]) == 1
local out = {1}
local tats = {}
local admitted = true
for i = 2, #KEYS do
  local limit = tonumber(ARGV[i * 2 - 1])
  local window = tonumber(ARGV[i * 2])
  local interval = window / limit
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local nextTat = tat + interval
  local ahead = nextTat - now
  local base = #out
  if ahead > window + 1e-6 then
    admitted = false
    out[base + 1] = 0
    out[base + 2] = math.ceil(tat - now)
    out[base + 3] = math.ceil(ahead - window)
  else
    tats[i] = nextTat
    out[base + 1] = math.floor((window - ahead) / interval + 1e-6)
    out[base + 2] = math.ceil(ahead)
    out[base + 3] = 0
  end
end
if revoked then
  out[1] = -1
  return out
end
if not admitted then
  out[1] = 0
  return out
end
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.max(1, math.ceil(tats[i] - now)))
end
return out
`);
const NO_SESSION = "-";

/** Shared limits and the revocation check in one EVALSHA round trip per request. */
export class RedisAdmissionStore implements AdmissionStore {
  readonly kind = "redis";
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  async admit(
    now: number,
    checks: readonly LimitCheck[],
    revocationKey: string | undefined,
  ): Promise<Admission> {
    const keys: string[] = [revocationKey ?? NO_SESSION];
    const args: string[] = [String(now), revocationKey === undefined ? "0" : "1"];
    for (const check of checks) {
      keys.push(check.key);
      args.push(String(check.limit), String(check.windowMs));
    }
    const reply = await this.#redis.runScript<number[]>(ADMIT, keys, args);
    const status = reply[0];
    const limits: LimitState[] = [];
    for (let i = 1; i + 2 < reply.length; i += 3) {
      limits.push({ remaining: reply[i]!, resetMs: reply[i + 1]!, retryAfterMs: reply[i + 2]! });
    }
    return { outcome: status === -1 ? "revoked" : status === 1 ? "admitted" : "limited", limits };
  }
}
