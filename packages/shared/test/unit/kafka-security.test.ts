import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { describe, it } from "node:test";
import { ConfigError, kafkaConfigShape, parseConfig } from "../../src/config.ts";
import { kafkaSecurity, type KafkaSecuritySettings } from "../../src/events/kafka-security.ts";
import { z } from "zod";

const base: KafkaSecuritySettings = { NODE_ENV: "production", KAFKA_TLS: false };
const SECRET = "s3cret-value-never-echoed";

function refusal(settings: Partial<KafkaSecuritySettings>): string {
  try {
    kafkaSecurity({ ...base, ...settings });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.ok(!error.message.includes(SECRET), "the password is never in the message");
    return error.message;
  }
  assert.fail("expected a ConfigError");
}

describe("Kafka TLS and SASL settings", () => {
  it("gives nothing when nothing is set: plaintext, no authentication", () => {
    assert.deepEqual(kafkaSecurity(base), {});
  });

  it("trusts the system CAs plus KAFKA_TLS_CA_FILE's, and refuses an unreadable one", () => {
    assert.deepEqual(kafkaSecurity({ ...base, KAFKA_TLS: true }), { tls: {} });
    const dir = mkdtempSync(join(tmpdir(), "mm-kafka-ca-"));
    try {
      const file = join(dir, "ca.pem");
      writeFileSync(file, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
      const { tls } = kafkaSecurity({ ...base, KAFKA_TLS: true, KAFKA_TLS_CA_FILE: file });
      const ca = tls?.ca as string[];
      assert.equal(ca.length, rootCertificates.length + 1);
      assert.match(ca.at(-1)!, /BEGIN CERTIFICATE/);
      assert.match(
        refusal({ KAFKA_TLS: true, KAFKA_TLS_CA_FILE: join(dir, "missing.pem") }),
        /KAFKA_TLS_CA_FILE: cannot be read \(ENOENT\)/,
      );
      assert.match(refusal({ KAFKA_TLS_CA_FILE: file }), /KAFKA_TLS_CA_FILE: set, but KAFKA_TLS is not true/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("maps each mechanism, and wants both credentials with it and a mechanism with them", () => {
    for (const [mechanism, wire] of [
      ["plain", "PLAIN"],
      ["scram-sha-256", "SCRAM-SHA-256"],
      ["scram-sha-512", "SCRAM-SHA-512"],
    ] as const) {
      const { sasl } = kafkaSecurity({
        ...base,
        KAFKA_TLS: true,
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: "svc",
        KAFKA_SASL_PASSWORD: SECRET,
      });
      assert.deepEqual(sasl, { mechanism: wire, username: "svc", password: SECRET });
    }
    const missing = refusal({ KAFKA_SASL_MECHANISM: "scram-sha-256" });
    assert.match(missing, /KAFKA_SASL_USERNAME: required/);
    assert.match(missing, /KAFKA_SASL_PASSWORD: required/);
    assert.match(refusal({ KAFKA_SASL_PASSWORD: SECRET }), /KAFKA_SASL_MECHANISM: required/);
  });

  it("refuses PLAIN without TLS in production only (it sends the password as it is)", () => {
    const plain = {
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "svc",
      KAFKA_SASL_PASSWORD: SECRET,
    } as const;
    assert.match(refusal(plain), /plain sends the password in clear/);
    assert.ok(kafkaSecurity({ ...base, ...plain, NODE_ENV: "development" }).sasl);
    assert.ok(kafkaSecurity({ ...base, ...plain, KAFKA_TLS: true }).sasl);
  });

  it("reads the mechanism case-insensitively from the environment and refuses others", () => {
    const schema = z.object(kafkaConfigShape);
    assert.equal(
      parseConfig(schema, { KAFKA_SASL_MECHANISM: "SCRAM-SHA-512" }).KAFKA_SASL_MECHANISM,
      "scram-sha-512",
    );
    assert.throws(() => parseConfig(schema, { KAFKA_SASL_MECHANISM: "GSSAPI" }), /KAFKA_SASL_MECHANISM/);
  });
});
