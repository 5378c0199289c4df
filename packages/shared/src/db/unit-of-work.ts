import type { Database, Executor, Transaction } from "./database.ts";

/** What a transaction can leave for a background worker, which is woken once it has committed. */
export type Enqueued = "mail" | "events";

export interface Wake {
  mail(): void;
  events(): void;
}

interface Work {
  enqueued: Set<Enqueued>;
  afterCommit: (() => unknown)[];
}

const WORK = Symbol("unit-of-work");

function workOf(tx: Executor): Work | undefined {
  return (tx as { [WORK]?: Work })[WORK];
}

/** Called by the enqueue functions: the unit of work this transaction belongs to wakes the worker after commit. */
export function recordEnqueued(tx: Executor, kind: Enqueued): void {
  workOf(tx)?.enqueued.add(kind);
}

/**
 * Runs `hook` once the caller's transaction has committed (never if it rolls back), e.g. publishing session
 * revocations to the gateway. Outside a unit of work it is refused: the hook would silently never run.
 */
export function afterCommit(tx: Executor, hook: () => unknown): void {
  const work = workOf(tx);
  if (!work) throw new Error("afterCommit needs a transaction begun by UnitOfWork.run");
  work.afterCommit.push(hook);
}

/**
 * Transactions that do their own after-commit work: whatever they enqueued (mail, events) wakes its worker,
 * and the hooks registered with `afterCommit` run, in order, once the transaction has committed. So no flow
 * has to remember to wake a worker by hand, and a forgotten wake-up cannot happen. A hook that fails is
 * logged by its owner; it cannot undo the commit.
 */
export class UnitOfWork {
  readonly #db: Database;
  readonly #wake: Wake | undefined;

  constructor(options: { db: Database; wake?: Wake | undefined }) {
    this.#db = options.db;
    this.#wake = options.wake;
  }

  async run<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const work: Work = { enqueued: new Set(), afterCommit: [] };
    const result = await this.#db.transaction((tx) => {
      Object.defineProperty(tx, WORK, { value: work });
      return fn(tx);
    });
    if (work.enqueued.has("mail")) this.#wake?.mail();
    if (work.enqueued.has("events")) this.#wake?.events();
    for (const hook of work.afterCommit) await hook();
    return result;
  }
}
