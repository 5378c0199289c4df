/** Order statistics for timing comparisons that must hold on a noisy shared machine. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median absolute deviation: a spread measure that a few scheduler hiccups do not inflate. */
export function mad(values: number[]): number {
  const m = median(values);
  return median(values.map((v) => Math.abs(v - m)));
}

/**
 * Times two request kinds alternately (randomised order within each pair, so drift and warm-up hit both
 * alike) and returns each kind's durations in ms.
 */
export async function timeAlternately(
  rounds: number,
  a: (round: number) => Promise<unknown>,
  b: (round: number) => Promise<unknown>,
): Promise<{ a: number[]; b: number[] }> {
  const out = { a: [] as number[], b: [] as number[] };
  const timed = async (fn: (round: number) => Promise<unknown>, round: number) => {
    const started = performance.now();
    await fn(round);
    return performance.now() - started;
  };
  for (let round = 0; round < rounds; round++) {
    if (Math.random() < 0.5) {
      out.a.push(await timed(a, round));
      out.b.push(await timed(b, round));
    } else {
      out.b.push(await timed(b, round));
      out.a.push(await timed(a, round));
    }
  }
  return out;
}

/**
 * Whether two samples show no gap beyond noise: the medians differ by less than a tolerance derived from the
 * measured spread (4 × the larger MAD), with a floor of 1.5 ms for timer granularity.
 */
export function sameTiming(a: number[], b: number[]): { gap: number; tolerance: number; ok: boolean } {
  const gap = Math.abs(median(a) - median(b));
  const tolerance = Math.max(1.5, 4 * Math.max(mad(a), mad(b)));
  return { gap, tolerance, ok: gap < tolerance };
}
