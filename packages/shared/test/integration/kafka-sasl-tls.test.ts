import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { kafkaBinaries, PrivateKafka } from "../../../../test/resilience/support/private-kafka.ts";
import { KafkaEventPublisher } from "../../src/events/kafka-event-publisher.ts";
import { kafkaSecurity, type KafkaSecuritySettings } from "../../src/events/kafka-security.ts";
import { skipUnlessPrograms } from "../../src/testing/services.ts";

const skip = await skipUnlessPrograms(...kafkaBinaries, ["openssl", "version"]);
const topic = "test.secured";

/**
 * A broker of its own with a TLS + SASL listener (scripts/kafka.sh's KAFKA_SASL_SSL_PORT: a self-signed
 * certificate, PLAIN and SCRAM users), as managed Kafka services offer: the publisher reaches it only with the
 * KAFKA_TLS* and KAFKA_SASL_* settings right.
 */
describe("Kafka over TLS with SASL", { skip, timeout: 180_000 }, () => {
  const kafka = new PrivateKafka({ saslSsl: true });
  before(() => kafka.start());
  after(() => kafka.close());

  const settings = (overrides: Partial<KafkaSecuritySettings>): KafkaSecuritySettings => ({
    NODE_ENV: "production",
    KAFKA_TLS: true,
    KAFKA_TLS_CA_FILE: kafka.caFile,
    KAFKA_SASL_MECHANISM: "scram-sha-512",
    KAFKA_SASL_USERNAME: "mimascota",
    KAFKA_SASL_PASSWORD: "mimascota-secret",
    ...overrides,
  });

  async function publishWith(overrides: Partial<KafkaSecuritySettings>): Promise<string> {
    const publisher = new KafkaEventPublisher({
      brokers: kafka.saslSslBrokers,
      clientId: "mimascota-test-secured",
      security: kafkaSecurity(settings(overrides)),
      timeoutMs: 3_000,
    });
    const id = randomUUID();
    try {
      await publisher.publish([
        { id, topic, key: "user-1", type: "test.secured.v1", source: "/test", time: new Date(), data: {} },
      ]);
      return id;
    } finally {
      await publisher.close();
    }
  }

  it("publishes with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 over TLS", async () => {
    const ids = [];
    for (const mechanism of ["plain", "scram-sha-256", "scram-sha-512"] as const) {
      ids.push(await publishWith({ KAFKA_SASL_MECHANISM: mechanism }));
    }
    assert.deepEqual((await kafka.eventIdsOn(topic, 3)).sort(), ids.sort());
  });

  it("is refused with a wrong password, without TLS, and with a certificate it was not told to trust", async () => {
    await assert.rejects(publishWith({ KAFKA_SASL_PASSWORD: "not-the-secret" }), "wrong password");
    await assert.rejects(publishWith({ KAFKA_TLS: false, KAFKA_TLS_CA_FILE: undefined }), "plaintext");
    await assert.rejects(publishWith({ KAFKA_TLS_CA_FILE: undefined }), "the system CAs only");
  });
});
