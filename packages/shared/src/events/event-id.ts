import { randomBytes } from "node:crypto";

let lastMs = 0;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562) whose 12-bit `rand_a` field is a per-millisecond counter, so ids made by one process sort
 * in the order they were made. Outbox rows written in one transaction share `created_at` (the transaction's
 * start time); ordering by `(created_at, id)` therefore publishes them in the order they were enqueued.
 */
export function timeOrderedId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = randomBytes(2).readUInt16BE() & 0x3ff; // leaves room for ≥3072 more ids in this millisecond
  } else if (++counter > 0xfff) {
    lastMs += 1; // counter exhausted: borrow the next millisecond rather than lose the ordering
    counter = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
