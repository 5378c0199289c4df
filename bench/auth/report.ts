import type { LoadResult } from "./load.ts";

export interface Row {
  label: string;
  result: LoadResult;
  /** Successful requests per CPU-second of the measured service (its user + system time, all threads). */
  perCpuSecond: number;
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "-";

export function table(rows: Row[]): string {
  const head = `${"".padEnd(44)}${"req/s".padStart(9)}${"per CPU-s".padStart(11)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"failed".padStart(8)}`;
  const lines = rows.map(
    ({ label, result: r, perCpuSecond }) =>
      `${label.padEnd(44)}${fmt(r.perSecond).padStart(9)}${fmt(perCpuSecond).padStart(11)}` +
      `${fmt(r.p50, 1).padStart(9)}${fmt(r.p99, 1).padStart(9)}${String(r.failures).padStart(8)}`,
  );
  return [head, ...lines].join("\n");
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * A horizontal bar chart of the throughputs on a log scale (argon2-bound login and cached /me differ by
 * two orders of magnitude), with each bar's value written at its end and goal markers where there is one.
 */
export function throughputSvg(
  title: string,
  subtitle: string,
  bars: { label: string; value: number; goal?: number; color: string }[],
): string {
  const left = 300;
  const width = 900;
  const barHeight = 26;
  const gap = 12;
  const top = 70;
  const plotWidth = width - left - 90;
  const max = Math.max(...bars.map((b) => Math.max(b.value, b.goal ?? 0)), 10);
  const decades = Math.ceil(Math.log10(max));
  const x = (v: number) => left + (Math.log10(Math.max(v, 1)) / decades) * plotWidth;
  const height = top + bars.length * (barHeight + gap) + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="28" font-size="17" font-weight="bold">${escape(title)}</text>`,
    `<text x="20" y="50" fill="#555">${escape(subtitle)}</text>`,
  ];
  for (let d = 0; d <= decades; d++) {
    const gx = x(10 ** d);
    parts.push(
      `<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${height - 34}" stroke="#ddd"/>`,
      `<text x="${gx}" y="${height - 18}" text-anchor="middle" fill="#777">${fmt(10 ** d)}</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const y = top + i * (barHeight + gap);
    const end = x(bar.value);
    parts.push(
      `<text x="${left - 10}" y="${y + barHeight / 2 + 4}" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(1, end - left)}" height="${barHeight}" fill="${bar.color}"/>`,
      `<text x="${Math.max(end, bar.goal === undefined ? 0 : x(bar.goal)) + 6}" y="${y + barHeight / 2 + 4}">${fmt(bar.value)}/s</text>`,
    );
    if (bar.goal !== undefined) {
      const gx = x(bar.goal);
      parts.push(
        `<line x1="${gx}" y1="${y - 3}" x2="${gx}" y2="${y + barHeight + 3}" stroke="#c00" stroke-width="2" stroke-dasharray="4 2"/>`,
      );
    }
  });
  parts.push(
    `<text x="${left}" y="${height - 4}" fill="#777" font-size="11">requests per second, log scale; red dashes: goal</text>`,
    "</svg>",
  );
  return parts.join("\n") + "\n";
}
