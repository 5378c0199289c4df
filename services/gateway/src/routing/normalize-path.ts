/** RFC 3986 §2.3: characters that mean the same whether written plainly or percent-encoded. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * A request target's path as the upstream will read it, for matching and forwarding (RFC 3986 §6.2.2–6.2.3):
 * percent-encoded unreserved characters decoded, the remaining escapes upper-cased, dot segments removed. So
 * `/api/v1/auth/l%6fgin` is the login route, with the login route's limits, and
 * `/api/v1/auth/x/%2e%2e/login` is too. Undefined for a path that cannot be normalised without guessing how
 * an upstream would read it: an encoded `/` or `\`, a NUL (encoded or not), a raw `\`, an invalid escape, or
 * one that does not start with `/`. The query string is kept as sent.
 */
export function normalizeTarget(target: string): { path: string; query: string } | undefined {
  const mark = target.indexOf("?");
  const rawPath = mark === -1 ? target : target.slice(0, mark);
  const query = mark === -1 ? "" : target.slice(mark);
  if (!rawPath.startsWith("/") || rawPath.includes("\\") || rawPath.includes("\0")) return undefined;
  // Most paths have no escape and no dot segment: already normal, with no per-character walk on every request.
  if (!rawPath.includes("%") && !rawPath.includes("/.")) return { path: rawPath, query };
  const decoded = decodeUnreserved(rawPath);
  if (decoded === undefined) return undefined;
  return { path: removeDotSegments(decoded), query };
}

function decodeUnreserved(path: string): string | undefined {
  let out = "";
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c !== "%") {
      out += c;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    const byte = Number.parseInt(hex, 16);
    // "/" and "\" would split or join segments differently per server; NUL ends strings in some.
    if (byte === 0x2f || byte === 0x5c || byte === 0x00) return undefined;
    const char = String.fromCharCode(byte);
    out += UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return out;
}

/** RFC 3986 §5.2.4, on a path that starts with "/". */
function removeDotSegments(path: string): string {
  const output: string[] = [];
  const segments = path.split("/").slice(1);
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === ".") {
      if (last) output.push("");
    } else if (segment === "..") {
      output.pop();
      if (last) output.push("");
    } else {
      output.push(segment);
    }
  });
  return `/${output.join("/")}`;
}
