import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { startAuthService } from "../../../services/auth/src/compose.ts";
import { loadAuthConfig } from "../../../services/auth/src/config.ts";
import { startGateway } from "../../../services/gateway/src/compose.ts";
import { loadGatewayConfig } from "../../../services/gateway/src/config.ts";
import { startProfileService } from "../../../services/profiles/src/compose.ts";
import { loadProfilesConfig } from "../../../services/profiles/src/config.ts";

export type ServiceExpositions = Record<"auth" | "gateway" | "profiles", Exposition>;

interface Started {
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * The series names each service really exposes: all three are started in embedded mode (PGlite, in-memory
 * store, folder photo store, no network dependency) and their /metrics is read. prom-client lists every
 * registered family, with or without samples, so a `# TYPE` line is proof the name exists.
 */
export async function scrapeServiceMetrics(): Promise<ServiceExpositions> {
  const dataDir = await mkdtemp(join(tmpdir(), "mimascota-deploy-metrics-"));
  const logger = pino({ level: "silent" });
  const env = { PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "silent" };
  const started: Started[] = [];
  const scrape = async (service: Started) => {
    started.push(service);
    return readExposition((await service.app.inject({ url: "/metrics" })).body);
  };
  try {
    return {
      auth: await scrape(await startAuthService(loadAuthConfig(env), { logger })),
      gateway: await scrape(await startGateway(loadGatewayConfig(env), { logger })),
      profiles: await scrape(await startProfileService(loadProfilesConfig(env), { logger })),
    };
  } finally {
    for (const service of started.reverse()) await service.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const suffixes: Record<string, string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

export interface Exposition {
  /** Metric family names, as in `# TYPE` lines. */
  families: Set<string>;
  /** The names a query can select: a histogram's family expands to its _bucket, _sum and _count series. */
  series: Set<string>;
}

export function readExposition(text: string): Exposition {
  const families = new Set<string>();
  const series = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    families.add(match[1]!);
    for (const suffix of suffixes[match[2]!] ?? [""]) series.add(match[1]! + suffix);
  }
  return { families, series };
}

const keywords = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
]);
keywords.add("unless").add("offset").add("inf").add("nan");

/**
 * The metric names a PromQL expression selects. Strings, label matchers, ranges and grouping label lists are
 * removed first; what is left that is not a function, an operator keyword or a number is a metric name.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.$])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    const name = match[1]!;
    if (!keywords.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}
