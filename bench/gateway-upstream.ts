/**
 * The benchmark's upstream: one small JSON answer on every path, plus a JWKS for the gateway and a signed
 * access token written to the file named by BENCH_TOKEN_FILE. Plain node:http, so it costs the same behind
 * every proxy being compared.
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

const port = Number(process.env.BENCH_UPSTREAM_PORT ?? 18081);
const tokenFile = process.env.BENCH_TOKEN_FILE ?? "/tmp/gateway-bench-token";

const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
const jwks = JSON.stringify({
  keys: [{ ...(await exportJWK(publicKey)), kid: "bench", alg: "EdDSA", use: "sig" }],
});
const token = await new SignJWT({ sid: "bench-session", amr: ["pwd"] })
  .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: "bench" })
  .setIssuer("mimascota-auth")
  .setAudience("mimascota-api")
  .setSubject("bench-user")
  .setJti(crypto.randomUUID())
  .setIssuedAt()
  // Within the gateway's MAX_TOKEN_LIFETIME (15 min + leeway), like the auth service's tokens.
  .setExpirationTime("15m")
  .sign(privateKey);
writeFileSync(tokenFile, token);

const body = JSON.stringify({ ok: true, service: "bench-upstream" });
createServer((request, response) => {
  if (request.url === "/.well-known/jwks.json") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(jwks);
    return;
  }
  response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  response.end(body);
}).listen(port, "127.0.0.1", () => console.log(`bench upstream on ${port}`)).keepAliveTimeout = 65_000;
