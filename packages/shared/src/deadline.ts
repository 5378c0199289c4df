/**
 * `work`'s outcome, or `late()`'s once `ms` have passed without one (return a fallback, or throw). The timer
 * is cleared as soon as either side settles, so nothing outlives the race. The abandoned `work` is not
 * cancelled: a caller that owns a connection stuck behind it handles that in `late`.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
