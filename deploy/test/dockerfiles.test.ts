import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { pino } from "pino";
import { startGateway, type RunningGateway } from "../../services/gateway/src/compose.ts";
import { loadGatewayConfig } from "../../services/gateway/src/config.ts";
import { podmanComposeHealthcheck, readRepoFile, readYaml, repoFileExists } from "./support/deploy-files.ts";
import { scriptAsContainerCommand } from "./support/service-commands.ts";

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Instructions in order, continuation lines joined, comments dropped, each tagged with its stage. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  const logical = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  for (const line of logical) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === "FROM") stage += 1;
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(" "), stage });
  }
  return instructions;
}

/** A JSON-array (exec form) argument list; shell form returns undefined. */
const execForm = (args: string): string[] | undefined =>
  args.startsWith("[") ? (JSON.parse(args) as string[]) : undefined;

const ignorePatterns = readRepoFile(".dockerignore")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));

/** Enough of .dockerignore's matching for this file: `**\/name` anywhere, else a path prefix. */
const ignored = (path: string) =>
  ignorePatterns.some((pattern) =>
    pattern.startsWith("**/")
      ? path.split("/").includes(pattern.slice(3))
      : path === pattern || path.startsWith(`${pattern}/`),
  );

/**
 * `installs`: the workspaces whose production dependencies the image installs. The gateway loads only
 * shared modules whose packages it depends on itself (production-dependencies.test.ts walks the imports),
 * so it leaves out the shared package's PGlite, drizzle, pg, Kafka and nodemailer.
 */
const services = [
  { name: "auth", workspace: "services/auth", port: 8006, installs: ["services/auth", "packages/shared"] },
  { name: "gateway", workspace: "services/gateway", port: 8080, installs: ["services/gateway"] },
  {
    name: "profiles",
    workspace: "services/profiles",
    port: 8082,
    installs: ["services/profiles", "packages/shared"],
  },
];

/** The root manifest's workspaces: `npm ci` refuses a lockfile whose workspaces have no package.json. */
const workspaces = (JSON.parse(readRepoFile("package.json")) as { workspaces: string[] }).workspaces;

for (const { name, workspace, port, installs } of services) {
  const path = `deploy/docker/${name}.Dockerfile`;

  describe(`${path}`, () => {
    const instructions = parseDockerfile(readRepoFile(path));
    const last = Math.max(...instructions.map((i) => i.stage));
    const final = instructions.filter((i) => i.stage === last);
    const one = (keyword: string) => {
      const found = final.filter((i) => i.keyword === keyword);
      assert.equal(found.length, 1, `the final stage needs exactly one ${keyword}`);
      return found[0]!;
    };

    it("is multi-stage on node:24-slim, which a build argument may replace (deploy/smoke.sh)", () => {
      // Global ARGs (before the first FROM) with their defaults, as `docker build` without --build-arg uses them.
      const defaults = new Map(
        instructions
          .filter((i) => i.stage === -1 && i.keyword === "ARG")
          .map((i) => i.args.split("=") as [string, string]),
      );
      const bases = instructions
        .filter((i) => i.keyword === "FROM")
        .map((i) =>
          i.args.split(/\s+/)[0]!.replace(/^\$\{(\w+)\}$/, (_, arg: string) => defaults.get(arg) ?? ""),
        );
      assert.ok(bases.length >= 2, "a single stage ships npm's cache and build leftovers");
      for (const base of bases) assert.equal(base, "node:24-slim");
    });

    it(`installs the production dependencies of ${installs.join(" and ")} only, from the lockfile`, () => {
      const install = instructions.find((i) => i.keyword === "RUN" && i.args.includes("npm ci"));
      assert.ok(install, "no npm ci");
      assert.ok(install.stage < last, "dependencies are installed in the final stage");
      assert.match(install.args, /--omit=dev/);
      assert.deepEqual(
        [...install.args.matchAll(/--workspace (\S+)/g)].map((m) => m[1]).sort(),
        installs.sort(),
      );
      if (!installs.includes("packages/shared")) {
        // npm links only the workspaces it installs; the service still imports @mimascota/shared/*.
        assert.match(install.args, /ln -s \.\.\/\.\.\/packages\/shared node_modules\/@mimascota\/shared/);
      }
      assert.ok(instructions.some((i) => i.keyword === "COPY" && i.args.includes("package-lock.json")));
    });

    it("copies every workspace's package.json before npm ci, so the lockfile matches", () => {
      const install = instructions.findIndex((i) => i.keyword === "RUN" && i.args.includes("npm ci"));
      const copied = instructions
        .slice(0, install)
        .filter((i) => i.keyword === "COPY")
        .map((i) => i.args);
      for (const workspace of workspaces) {
        assert.ok(
          copied.includes(`${workspace}/package.json ${workspace}/`),
          `${workspace}/package.json is not copied before npm ci`,
        );
      }
    });

    it("copies only files that exist and that .dockerignore lets into the build context", () => {
      const copies = instructions.filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"));
      assert.ok(copies.length > 0);
      for (const copy of copies) {
        const sources = copy.args
          .split(/\s+/)
          .filter((arg) => !arg.startsWith("--"))
          .slice(0, -1);
        for (const source of sources) {
          assert.ok(repoFileExists(source), `${source} does not exist`);
          assert.ok(!ignored(source), `${source} is excluded by .dockerignore`);
        }
      }
      assert.ok(final.some((i) => i.keyword === "COPY" && i.args.startsWith(`${workspace}/src `)));
    });

    it("starts the service's start script with node itself (not npm), as a non-root user", () => {
      assert.deepEqual(execForm(one("CMD").args), scriptAsContainerCommand(workspace, "start"));
      const user = one("USER").args;
      assert.ok(!["root", "0", "0:0"].includes(user), `runs as ${user}`);
      assert.ok(final.indexOf(one("USER")) < final.indexOf(one("CMD")));
      assert.ok(!final.some((i) => i.keyword === "ENTRYPOINT"), "an entrypoint would wrap node");
    });

    it(`listens on all interfaces on port ${port}, the schema's default`, () => {
      const env = final
        .filter((i) => i.keyword === "ENV")
        .map((i) => i.args)
        .join(" ");
      assert.match(env, /\bHOST=0\.0\.0\.0\b/);
      assert.match(env, new RegExp(`\\bPORT=${port}\\b`));
      assert.match(env, /\bNODE_ENV=production\b/);
      assert.equal(one("EXPOSE").args, String(port));
    });

    it("health-checks /health with node's fetch, not curl", () => {
      const healthcheck = one("HEALTHCHECK").args;
      const command = execForm(healthcheck.slice(healthcheck.indexOf("CMD ") + 4));
      assert.equal(command?.[0], "node");
      assert.match(command?.join(" ") ?? "", /fetch\(.*\/health/);
      assert.doesNotMatch(healthcheck, /curl|wget/);
    });
  });
}

describe("the HEALTHCHECK commands of the Dockerfiles and of compose against a running service", () => {
  const run = promisify(execFile);
  let gateway: RunningGateway;
  let dataDir: string;
  let port: number;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "mimascota-healthcheck-"));
    const config = loadGatewayConfig({ PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "silent" });
    gateway = await startGateway(config, { logger: pino({ level: "silent" }), processMetrics: false });
    port = (gateway.app.server.address() as { port: number }).port;
  });

  after(async () => {
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const healthcheckCommand = (name: string) => {
    const instructions = parseDockerfile(readRepoFile(`deploy/docker/${name}.Dockerfile`));
    const args = instructions.find((i) => i.keyword === "HEALTHCHECK")!.args;
    return execForm(args.slice(args.indexOf("CMD ") + 4))!;
  };

  const freePort = () =>
    new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });

  for (const { name } of services) {
    it(`${name}: exits 0 while /health answers and 1 when nothing listens on PORT`, async () => {
      const [program, ...args] = healthcheckCommand(name);
      assert.equal(program, "node");
      const healthy = await run(process.execPath, args, { env: { PORT: String(port) } });
      assert.equal(healthy.stderr, "");
      const down = await run(process.execPath, args, { env: { PORT: String(await freePort()) } }).then(
        () => 0,
        (error: { code?: number }) => error.code,
      );
      assert.equal(down, 1);
    });
  }

  const compose = readYaml<{ services: Record<string, { healthcheck: { test: string[] } }> }>(
    "deploy/docker-compose.yml",
  );
  for (const { name } of services) {
    it(
      `compose's ${name} healthcheck, as docker compose and as podman-compose 1.0.3 run it: 0 up, 1 down`,
      { skip: process.platform === "win32" && "podman-compose runs it with /bin/sh" },
      async () => {
        const test = compose.services[name]!.healthcheck.test;
        assert.equal(test[0], "CMD", "exec form");
        assert.equal(test[1], "node");
        const env = (listening: number) => ({
          PORT: String(listening),
          PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        });
        const ways = [
          (listening: number) => run(process.execPath, test.slice(2), { env: env(listening) }),
          (listening: number) =>
            run("/bin/sh", ["-c", podmanComposeHealthcheck(test)], { env: env(listening) }),
        ];
        for (const way of ways) {
          assert.equal((await way(port)).stderr, "");
          const down = await way(await freePort()).then(
            () => 0,
            (error: { code?: number }) => error.code,
          );
          assert.equal(down, 1);
        }
      },
    );
  }
});

describe("sharp's prebuilt libvips in the profiles image", () => {
  interface LockedPackage {
    version?: string;
    os?: string[];
    cpu?: string[];
    libc?: string[];
    optional?: boolean;
  }
  const lock = JSON.parse(readRepoFile("package-lock.json")) as { packages: Record<string, LockedPackage> };
  /** node:24-slim is Debian bookworm: glibc 2.36 (sharp's own binaries need 2.28, see profiles.Dockerfile). */
  const baseGlibc = "2.36";
  const atLeast = (have: string, need: string) => {
    const [a = 0, b = 0] = have.split(".").map(Number);
    const [c = 0, d = 0] = need.split(".").map(Number);
    return a > c || (a === c && b >= d);
  };

  for (const cpu of ["x64", "arm64"]) {
    it(`the lockfile holds the linux-${cpu} glibc binaries npm ci installs on a ${cpu} build`, () => {
      for (const name of [`@img/sharp-linux-${cpu}`, `@img/sharp-libvips-linux-${cpu}`]) {
        const locked = lock.packages[`node_modules/${name}`];
        assert.ok(locked, `${name} is not in package-lock.json: npm ci would install no libvips`);
        assert.deepEqual([locked.os, locked.cpu, locked.libc], [["linux"], [cpu], ["glibc"]], name);
      }
    });
  }

  const installed = `node_modules/@img/sharp-linux-${process.arch}/package.json`;
  it(
    `needs no newer glibc than the base image's ${baseGlibc}`,
    { skip: !repoFileExists(installed) && `${installed} is installed on Linux glibc machines only` },
    () => {
      // The binding's manifest states the glibc its binaries were built against (libvips' is the same).
      const manifest = JSON.parse(readRepoFile(installed)) as {
        version: string;
        config?: { glibc?: string };
      };
      const needed = /^>=\s*(\d+\.\d+)$/.exec(manifest.config?.glibc ?? "")?.[1];
      assert.ok(needed, `unexpected glibc requirement ${manifest.config?.glibc}`);
      assert.ok(atLeast(baseGlibc, needed), `sharp ${manifest.version} needs glibc ${needed}`);
    },
  );
});
