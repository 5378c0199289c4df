import { readFileSync } from "node:fs";

/**
 * Summarises a V8 .cpuprofile (from BENCH_PROFILE_DIR): self time by package or source folder, and the top
 * functions. Usage: node bench/auth/profile.ts <file.cpuprofile> [top]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
const [file, topArg = "25"] = process.argv.slice(2);
if (!file) throw new Error("usage: node bench/auth/profile.ts <file.cpuprofile> [top]");
const profile = JSON.parse(readFileSync(file, "utf8")) as {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
};
const totalHits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);

const where = (url: string) => {
  if (!url) return "(native / V8)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return "node core";
  const own = /\/work\/[^/]+\/[^/]+\/((?:services|packages)\/[^/]+\/src\/[^/]+)/.exec(url);
  return own?.[1] ?? url;
};
const add = (map: Map<string, number>, key: string, hits: number) => map.set(key, (map.get(key) ?? 0) + hits);
const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  if (!hits) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  add(byPlace, where(url), hits);
  add(byFunction, `${functionName || "(anonymous)"}  ${where(url)}:${lineNumber + 1}`, hits);
}
const print = (title: string, map: Map<string, number>, top: number) => {
  console.log(`\n${title}`);
  for (const [key, hits] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * hits) / totalHits).toFixed(1).padStart(6)} %  ${key}`);
  }
};
console.log(
  `${file}: ${totalHits} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s (main thread only)`,
);
print("self time by package or folder", byPlace, 20);
print("self time by function", byFunction, Number(topArg));
