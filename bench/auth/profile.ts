import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Summarises a V8 .cpuprofile written under BENCH_PROFILE_DIR: self time by package or source folder, and
 * the top functions. With `--window <text>`, only the samples taken during the runs whose label contains
 * the text (from windows.json beside the profile), e.g. `--window refresh`.
 * Usage: node bench/auth/profile.ts <file.cpuprofile> [--window <text>] [--top <n>]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}
const args = process.argv.slice(2);
const file = args[0];
if (!file)
  throw new Error("usage: node bench/auth/profile.ts <file.cpuprofile> [--window <text>] [--top <n>]");
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const windowText = option("--window");
const top = Number(option("--top") ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const spans = windowText
  ? (
      JSON.parse(readFileSync(join(dirname(file), "windows.json"), "utf8")) as {
        label: string;
        startUs: number;
        endUs: number;
      }[]
    ).filter((w) => w.label.includes(windowText))
  : undefined;

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const hits = new Map<number, number>();
let time = profile.startTime;
let total = 0;
profile.samples.forEach((id, i) => {
  time += profile.timeDeltas[i] ?? 0;
  if (spans && !spans.some((w) => time >= w.startUs && time <= w.endUs)) return;
  hits.set(id, (hits.get(id) ?? 0) + 1);
  total += 1;
});

const where = (url: string) => {
  if (!url) return "(native / V8)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return "node core";
  return /((?:services|packages)\/[^/]+\/src\/.+)$/.exec(url)?.[1] ?? url;
};
const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
let idle = 0;
for (const [id, n] of hits) {
  const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
  if (functionName === "(idle)") {
    idle += n;
    continue;
  }
  add(byPlace, where(url), n);
  add(byFunction, `${functionName || "(anonymous)"}  ${where(url)}:${lineNumber + 1}`, n);
}
const busy = total - idle;
const print = (title: string, map: Map<string, number>, count: number) => {
  console.log(`\n${title} (share of busy samples)`);
  for (const [key, n] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    console.log(`${((100 * n) / busy).toFixed(1).padStart(6)} %  ${key}`);
  }
};
const scope = spans ? `runs matching "${windowText}" (${spans.length})` : "whole run";
console.log(
  `${file}, ${scope}: ${total} samples, ${((100 * busy) / total).toFixed(0)} % busy (main thread only)`,
);
print("self time by package or folder", byPlace, 15);
print("self time by function", byFunction, top);
