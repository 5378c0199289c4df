import assert from "node:assert/strict";
import type { Server } from "node:net";

/** The port a listening server was given (servers here listen on port 0). */
export function port(address: ReturnType<Server["address"]>): number {
  assert.ok(address && typeof address === "object");
  return address.port;
}

/** `name=value` of a Set-Cookie header, as a browser would send it back. */
export function cookiePair(setCookie: string | null): string {
  const pair = setCookie?.split(";")[0];
  assert.ok(pair, "a Set-Cookie header");
  return pair;
}
