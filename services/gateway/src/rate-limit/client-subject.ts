import ipaddr from "ipaddr.js";

/**
 * What a per-IP limit counts: the address for IPv4 (an IPv4-mapped IPv6 address counts as its IPv4 one),
 * and the /64 network for IPv6. A single IPv6 subscriber usually holds a whole /64 and can take a fresh
 * address from it for every request; counting addresses would let it past every per-IP limit.
 */
export function rateLimitSubject(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === "ipv4") return address.toString();
  const network = (address as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${network.join(":")}::/64`;
}
