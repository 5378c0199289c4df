import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { ManualClock } from "../../src/clock.ts";
import { createMailTransport } from "../../src/mail/create-mail-transport.ts";
import { DevMailbox, listDevMail } from "../../src/mail/dev-mailbox.ts";
import { captureLogger } from "../support/capture-logger.ts";

const ID = "0b6f7c1e-2d4a-4c55-9a8e-3f1d2c3b4a59";

describe("dev mailbox", () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "dev-mailbox-"));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("writes each mail as <time>-<id>.json under <dataDir>/mail in the format the gateway page reads", async () => {
    const clock = new ManualClock("2026-03-04T05:06:07.089Z");
    const mailbox = new DevMailbox({ dataDir, logger: pino({ level: "silent" }), clock });
    await mailbox.send({ id: ID, to: "ana@example.com", subject: "Hi", text: "Hello", html: "<p>Hello</p>" });

    const file = `2026-03-04T05-06-07.089Z-${ID}.json`;
    assert.deepEqual(readdirSync(join(dataDir, "mail")), [file]);
    assert.deepEqual(JSON.parse(readFileSync(join(dataDir, "mail", file), "utf8")), {
      id: ID,
      to: "ana@example.com",
      subject: "Hi",
      text: "Hello",
      html: "<p>Hello</p>",
      createdAt: "2026-03-04T05:06:07.089Z",
    });
  });

  it("logs the recipient, subject and every link of the text, so the developer can click them", async () => {
    const { logger, lines } = captureLogger();
    const dir = mkdtempSync(join(tmpdir(), "dev-mailbox-"));
    const mailbox = new DevMailbox({ dataDir: dir, logger });
    await mailbox.send({
      id: ID,
      to: "bo@example.com",
      subject: "Verify your email",
      text: "Verify: http://localhost:8080/verify-email?token=abc.\nOr reset at https://app.example/reset#t=1 (valid 1 h)",
      html: "<p>see text</p>",
    });
    const line = lines.find((l) => l.msg.includes("dev mailbox"));
    assert.equal(line?.to, "bo@example.com");
    assert.equal(line?.subject, "Verify your email");
    assert.deepEqual(line?.links, [
      "http://localhost:8080/verify-email?token=abc",
      "https://app.example/reset#t=1",
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists the newest mails first up to the limit and skips files that are not valid mails", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dev-mailbox-"));
    const clock = new ManualClock("2026-01-01T00:00:00Z");
    const mailbox = createMailTransport({
      from: "x@y.z",
      dataDir: dir,
      logger: pino({ level: "silent" }),
      clock,
    });
    assert.equal(mailbox.kind, "dev-mailbox");
    for (const n of [1, 2, 3]) {
      await mailbox.send({
        id: `00000000-0000-0000-0000-00000000000${n}`,
        to: `u${n}@x.y`,
        subject: `s${n}`,
        text: "",
        html: "",
      });
      clock.advance(1_000);
    }
    writeFileSync(join(dir, "mail", "broken.json"), "{not json");
    writeFileSync(join(dir, "mail", "notes.txt"), "ignored");

    const mails = await listDevMail(dir, 2);
    assert.deepEqual(
      mails.map((m) => [m.subject, m.createdAt]),
      [
        ["s3", "2026-01-01T00:00:02.000Z"],
        ["s2", "2026-01-01T00:00:01.000Z"],
      ],
    );
    assert.equal((await listDevMail(dir, 50)).length, 3);
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists nothing when no mail was ever written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dev-mailbox-"));
    mkdirSync(join(dir, "other"));
    assert.deepEqual(await listDevMail(dir, 10), []);
    rmSync(dir, { recursive: true, force: true });
  });
});
