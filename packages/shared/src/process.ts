import type { Logger } from "pino";

/**
 * Graceful shutdown: on SIGTERM/SIGINT stop accepting, drain and close within `graceMs`; a second signal or
 * an overrun exits at once so an orchestrator never waits on a stuck process.
 */
export function runUntilSignal(logger: Logger, close: () => Promise<void>, graceMs = 10_000): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal, exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ graceMs }, "shutdown took too long, exiting");
      process.exit(1);
    }, graceMs);
    timer.unref();
    close().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
