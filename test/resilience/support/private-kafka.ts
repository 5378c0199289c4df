import { randomUUID } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Consumer, MessagesStreamModes, stringDeserializers, type Message } from "@platformatic/kafka";
import { forget, freePort, isAlive, killOnExit, run, until, waitForExit } from "./processes.ts";

const script = resolve(import.meta.dirname, "../../../scripts/kafka.sh");
// The script's own default: the resolved classpath is shared with the other brokers; the instance folder is ours.
const home = process.env.KAFKA_HOME_DIR ?? join(process.env.HOME ?? "/tmp", ".cache", "mimascota-kafka");

/** Java runs the broker; Maven fetches it unless the classpath is cached already. */
export const kafkaBinaries: [string, ...string[]][] = [
  ["java", "-version"],
  ["bash", "--version"],
];

/**
 * An Apache Kafka broker of this test's own (scripts/kafka.sh on free ports, a fresh log folder), so the test
 * can kill and restart it without touching the shared broker other suites use.
 */
export class PrivateKafka {
  port = 0;
  controllerPort = 0;
  /** With `saslSsl`: the TLS + SASL listener (scripts/kafka.sh's KAFKA_SASL_SSL_PORT), else 0. */
  saslSslPort = 0;
  readonly #saslSsl: boolean;

  constructor(options: { saslSsl?: boolean } = {}) {
    this.#saslSsl = options.saslSsl ?? false;
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  get saslSslBrokers(): string[] {
    return [`127.0.0.1:${this.saslSslPort}`];
  }

  /** The listener's self-signed certificate, which a client must trust (PEM). */
  get caFile(): string {
    return join(this.#instance, "tls", "cert.pem");
  }

  get #instance(): string {
    return join(home, `instance-${this.port}`);
  }

  /** Starts the broker (on the same ports and data as before after `kill`) and waits until it serves metadata. */
  async start(): Promise<this> {
    if (this.port === 0) {
      this.port = await freePort();
      this.controllerPort = await freePort();
      if (this.#saslSsl) this.saslSslPort = await freePort();
      // A folder left by an earlier run on the same port would bring its old messages back.
      rmSync(this.#instance, { recursive: true, force: true });
    }
    await run("bash", [script, "start"], {
      timeout: 150_000,
      env: {
        ...process.env,
        KAFKA_PORT: String(this.port),
        KAFKA_CONTROLLER_PORT: String(this.controllerPort),
        KAFKA_HEAP: "-Xms64m -Xmx384m",
        ...(this.#saslSsl ? { KAFKA_SASL_SSL_PORT: String(this.saslSslPort) } : {}),
      },
    });
    killOnExit(this.pid());
    return this;
  }

  /**
   * The CloudEvents ids (`ce_id` headers) on `topic`, read from its start through the plaintext listener
   * until `expected` have arrived (then `settleMs` more, for anything published twice right behind them);
   * fails after `timeoutMs`.
   */
  async eventIdsOn(
    topic: string,
    expected: number,
    options: { timeoutMs?: number; settleMs?: number } = {},
  ): Promise<string[]> {
    const received: Message<string, string, string, string>[] = [];
    const consumer = new Consumer({
      groupId: `test-reader-${randomUUID()}`,
      clientId: "mimascota-test-reader",
      bootstrapBrokers: this.brokers,
      deserializers: stringDeserializers,
    });
    try {
      const stream = await consumer.consume({
        topics: [topic],
        mode: MessagesStreamModes.EARLIEST,
        maxWaitTime: 200,
      });
      stream.on("data", (message: Message<string, string, string, string>) => received.push(message));
      await until(() => received.length >= expected, `${expected} messages on ${topic}`, options.timeoutMs);
      if (options.settleMs) await sleep(options.settleMs);
    } finally {
      await consumer.close(true);
    }
    return received.map((message) => message.headers.get("ce_id") ?? "");
  }

  pid(): number {
    return Number(readFileSync(join(this.#instance, "kafka.pid"), "utf8").trim());
  }

  /** SIGKILL to the broker's JVM: no clean shutdown, as in a crash. */
  async kill(): Promise<void> {
    const pid = this.pid();
    process.kill(pid, "SIGKILL");
    await waitForExit(pid, "the private Kafka broker");
    forget(pid);
  }

  async close(): Promise<void> {
    if (this.port === 0) return;
    try {
      const pid = this.pid();
      if (isAlive(pid)) {
        process.kill(pid, "SIGKILL");
        await waitForExit(pid, "the private Kafka broker");
      }
      forget(pid);
    } catch {
      // never started, or already stopped
    }
    rmSync(this.#instance, { recursive: true, force: true });
  }
}
