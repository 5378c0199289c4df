import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const require = createRequire(import.meta.url);

/** A use of the generated types as an integrator writes it: a wrong path, body or field would not compile. */
const CLIENT = `import createClient from "openapi-fetch";
import type { components, paths } from "./api.d.ts";

type User = components["schemas"]["User"];
const client = createClient<paths>({ baseUrl: "http://localhost:8080" });

export async function signIn(email: string, password: string): Promise<User | string | undefined> {
  const { data, error } = await client.POST("/api/v1/auth/login", { body: { email, password } });
  if (error) return error.code;
  if (data && "twoFactorRequired" in data) return data.twoFactorToken;
  return data?.user;
}

export async function profileName(token: string): Promise<string | null | undefined> {
  const { data } = await client.GET("/api/v1/profiles/me", { headers: { authorization: \`Bearer \${token}\` } });
  return data?.display_name;
}
`;

/**
 * Type-checks the generated `api.d.ts` in `folder` together with a client that uses it; returns the compiler's
 * complaints ("" when it compiles).
 */
export async function typecheckClient(folder: string): Promise<string> {
  writeFileSync(join(folder, "client.ts"), CLIENT);
  writeFileSync(
    join(folder, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: "nodenext",
        target: "es2022",
        allowImportingTsExtensions: true,
        skipLibCheck: true,
        types: [],
        // The folder is outside the project: the client library is found where the project installed it.
        paths: { "openapi-fetch": [join(dirname(require.resolve("openapi-fetch")), "index.d.ts")] },
      },
      files: ["client.ts"],
    }),
  );
  const tsc = require.resolve("typescript/bin/tsc");
  try {
    await promisify(execFile)(process.execPath, [tsc, "-p", folder]);
    return "";
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ""}${stderr ?? ""}` || String(error);
  }
}
