import { isIPv6 } from "node:net";

/**
 * What a per-IP limit counts: the address for IPv4 (an IPv4-mapped IPv6 address counts as its IPv4 one),
 * and the /64 network for IPv6. A single IPv6 subscriber usually holds a whole /64 and can take a fresh
 * address from it for every request; counting addresses would let it past every per-IP limit.
 */
export function rateLimitSubject(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const groups = hextets(ip);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (zone dropped, `::` expanded, a dotted tail converted). */
function hextets(ip: string): number[] {
  const address = ip.split("%")[0]!;
  const toGroups = (part: string): number[] =>
    part === ""
      ? []
      : part.split(":").flatMap((piece) => {
          if (!piece.includes(".")) return [parseInt(piece, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = piece.split(".").map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const gap = address.indexOf("::");
  if (gap < 0) return toGroups(address);
  const head = toGroups(address.slice(0, gap));
  const tail = toGroups(address.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}
