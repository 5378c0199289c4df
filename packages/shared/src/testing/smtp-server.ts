import { type AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  messageId: string | undefined;
  from: string;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  subject: string;
  text: string;
  html: string;
  receivedAt: Date;
}

interface Waiter {
  predicate: (mail: ReceivedMail) => boolean;
  resolve: (mail: ReceivedMail) => void;
}

export interface TestSmtpOptions {
  /** Implicit TLS (smtps, as on port 465) with this key and certificate. */
  tls?: { key: string; cert: string };
  /** AUTH required (PLAIN/LOGIN) with these credentials; a wrong pair is answered 535. */
  auth?: { user: string; pass: string };
}

/**
 * A real SMTP server in the test process, on a free loopback port: plain and open by default, or with
 * implicit TLS and required AUTH, as a production relay. Received messages are parsed with mailparser.
 * `stop()` and `start()` take it down and bring it back on the same port, to test what the mail worker does
 * during an SMTP outage; `refuse(true)` keeps it up but answers every mail 451.
 */
export class TestSmtpServer {
  readonly received: ReceivedMail[] = [];
  readonly #options: TestSmtpOptions;
  #server: SMTPServer | undefined;
  #port = 0;
  #refusing = false;
  #waiters: Waiter[] = [];

  constructor(options: TestSmtpOptions = {}) {
    this.#options = options;
  }

  static async start(options: TestSmtpOptions = {}): Promise<TestSmtpServer> {
    const server = new TestSmtpServer(options);
    await server.start();
    return server;
  }

  /** The SMTP_URL a client uses: `smtps://` with TLS, with the credentials when AUTH is required. */
  get url(): string {
    const { tls, auth } = this.#options;
    const credentials = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@` : "";
    return `${tls ? "smtps" : "smtp"}://${credentials}127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /** Listens (again) on the port it had, or on a free port the first time. */
  async start(): Promise<void> {
    if (this.#server) return;
    const { tls, auth } = this.#options;
    const server = new SMTPServer({
      secure: tls !== undefined,
      ...(tls ?? {}),
      authOptional: auth === undefined,
      disabledCommands: auth ? ["STARTTLS"] : ["AUTH", "STARTTLS"],
      // Credentials over plain text only when the test asks for AUTH without TLS.
      allowInsecureAuth: tls === undefined,
      onAuth: (attempt, _session, callback) => {
        if (auth && attempt.username === auth.user && attempt.password === auth.pass) {
          callback(null, { user: attempt.username });
        } else callback(Object.assign(new Error("authentication failed"), { responseCode: 535 }));
      },
      logger: false,
      closeTimeout: 100,
      onData: (stream, session, callback) => {
        if (this.#refusing) {
          stream.resume();
          stream.on("end", () =>
            callback(Object.assign(new Error("try again later"), { responseCode: 451 })),
          );
          return;
        }
        const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        simpleParser(stream).then(
          (parsed) => {
            this.#record({
              messageId: parsed.messageId,
              from: parsed.from?.text ?? "",
              to: recipients,
              subject: parsed.subject ?? "",
              text: parsed.text ?? "",
              html: typeof parsed.html === "string" ? parsed.html : "",
              receivedAt: new Date(),
            });
            callback();
          },
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    // Errors from a client connection (e.g. a reset socket) are the test's business, not a crash.
    server.on("error", () => {});
    this.#port = (server.server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening and drops open connections, like a server that went down. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** While on, the server accepts connections but answers every message with a temporary failure (451). */
  refuse(on: boolean): void {
    this.#refusing = on;
  }

  /** The first mail, already received or still to come, that matches; rejects after `timeoutMs`. */
  waitForMail(predicate: (mail: ReceivedMail) => boolean, timeoutMs = 10_000): Promise<ReceivedMail> {
    const found = this.received.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise<ReceivedMail>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (mail) => {
          clearTimeout(timer);
          resolve(mail);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching mail within ${timeoutMs} ms (${this.received.length} received)`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    await this.stop();
  }

  #record(mail: ReceivedMail): void {
    this.received.push(mail);
    const matched = this.#waiters.filter((waiter) => waiter.predicate(mail));
    this.#waiters = this.#waiters.filter((waiter) => !matched.includes(waiter));
    for (const waiter of matched) waiter.resolve(mail);
  }
}
