import { Counter, type Registry } from "prom-client";

/**
 * A counter with one label whose values are a closed set: `inc` takes only those (the type says so, where
 * prom-client's `Counter<"result">` takes any string), and each value's series exists from the start at 0, so
 * a dashboard or an alert's `rate()` sees it before its first event.
 */
export class LabelledCounter<V extends string> {
  readonly #counter: Counter;
  readonly #label: string;

  constructor(options: {
    name: string;
    help: string;
    label: string;
    values: readonly V[];
    registers: Registry[];
  }) {
    this.#label = options.label;
    this.#counter = new Counter({
      name: options.name,
      help: options.help,
      labelNames: [options.label],
      registers: options.registers,
    });
    for (const value of options.values) this.#counter.inc({ [options.label]: value }, 0);
  }

  inc(value: V): void {
    this.#counter.inc({ [this.#label]: value });
  }
}
