import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import { createServer } from "node:http";
import pg from "pg";
import { PasswordHasher } from "../../services/auth/src/crypto/password-hasher.ts";

/**
 * The reference of the login benchmark: the least a password login on this stack can do, so the auth
 * service's login is measured against what Node, `pg` and argon2 cost on this machine and not only against
 * bare hashing. node:http with no framework; the same `PasswordHasher` (same parameters, one hash at a time
 * per CPU); the same two round trips as the service's common login (read the user by email; then one
 * statement writing the session and its refresh token, both named prepared statements); an EdDSA access
 * token signed with `node:crypto`; the refresh cookie; the JSON answer.
 *
 * What it leaves out is what the product adds: input validation and problem responses, the lock and
 * changed-password guards in the write, request ids, security headers, metrics, the response schema. It is
 * a measuring stick, not a service: it never leaves bench/.
 * Usage: PORT=… DATABASE_URL=… node reference-login.ts <memoryKiB> <timeCost> <parallelism>
 */
const [memoryCost = 19456, timeCost = 2, parallelism = 1] = process.argv.slice(2).map(Number);
const hasher = new PasswordHasher({ memoryCost, timeCost, parallelism });
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const { privateKey } = generateKeyPairSync("ed25519");
const header = Buffer.from(JSON.stringify({ alg: "EdDSA", typ: "at+jwt", kid: "reference" })).toString(
  "base64url",
);
const ACCESS_TTL = 900;
const REFRESH_TTL_MS = 14 * 86_400_000;

const readUser = (email: string) => ({
  name: "reference_read_user",
  text: "select id, email, full_name, password_hash from users where email = $1",
  values: [email],
});
const openSession = (values: unknown[]) => ({
  name: "reference_open_session",
  text: `with s as (
           insert into sessions (id, user_id, amr, created_at, last_used_at, expires_at)
           values ($1, $2, '["pwd"]', $3, $3, $4))
         insert into refresh_tokens (id, session_id, token_hash, created_at, expires_at)
         values ($5, $1, $6, $3, $4)`,
  values,
});

type User = { id: string; email: string; full_name: string | null; password_hash: string };

async function login(body: string): Promise<{ status: number; cookie?: string; json: unknown }> {
  const { email, password } = JSON.parse(body) as { email: string; password: string };
  const user = (await db.query<User>(readUser(email))).rows[0];
  const ok = user ? await hasher.verify(user.password_hash, password) : await hasher.verifyDummy(password);
  if (!user || !ok) return { status: 401, json: { code: "INVALID_CREDENTIALS" } };
  const now = new Date();
  const sessionId = randomUUID();
  const refreshToken = randomBytes(32).toString("base64url");
  const tokenHash = createHash("sha256").update(refreshToken).digest("base64");
  const expires = new Date(now.getTime() + REFRESH_TTL_MS);
  await db.query(openSession([sessionId, user.id, now, expires, randomUUID(), tokenHash]));
  const iat = Math.floor(now.getTime() / 1000);
  const claims = {
    sid: sessionId,
    amr: ["pwd"],
    sub: user.id,
    jti: randomUUID(),
    iat,
    exp: iat + ACCESS_TTL,
  };
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const accessToken = `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
  return {
    status: 200,
    cookie: `refresh_token=${refreshToken}; Path=/api/v1/auth; HttpOnly; SameSite=Strict; Max-Age=${REFRESH_TTL_MS / 1000}`,
    json: {
      accessToken,
      tokenType: "Bearer",
      expiresIn: ACCESS_TTL,
      user: { id: user.id, email: user.email, fullName: user.full_name },
    },
  };
}

createServer((request, response) => {
  if (request.url === "/health") return void response.end("ok");
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    login(Buffer.concat(chunks).toString())
      .then(({ status, cookie, json }) => {
        response.statusCode = status;
        response.setHeader("content-type", "application/json");
        response.setHeader("cache-control", "no-store");
        if (cookie) response.setHeader("set-cookie", cookie);
        response.end(JSON.stringify(json));
      })
      .catch(() => {
        response.statusCode = 400;
        response.end();
      });
  });
}).listen(Number(process.env.PORT), "127.0.0.1");
