import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { OutboundEvent } from "../../src/events/event-publisher.ts";
import { KafkaEventPublisher } from "../../src/events/kafka-event-publisher.ts";

const event: OutboundEvent = {
  id: "1",
  topic: "user.registered.v1",
  key: "user-1",
  type: "app.mimascota.user.registered.v1",
  source: "/auth",
  time: new Date(),
  data: {},
};

// A peer on loopback that accepts connections and never answers: the case where the Kafka client alone
// would wait forever.
describe("Kafka publisher against a peer that never answers", () => {
  let server: Server;
  const sockets: Socket[] = [];
  let port = 0;

  before(async () => {
    server = createServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    assert.ok(address && typeof address === "object");
    port = address.port;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it(
    "fails publish and ping at its own deadline instead of hanging, and stays usable",
    { timeout: 20_000 },
    async () => {
      const publisher = new KafkaEventPublisher({
        brokers: [`127.0.0.1:${port}`],
        clientId: "mimascota-test-silent-peer",
        timeoutMs: 200,
        retries: 2,
        retryDelayMs: 10,
      });
      try {
        await assert.rejects(publisher.publish([event]), /did not answer within/);
        await assert.rejects(publisher.ping(), /did not answer within/);
        // The stuck producer was replaced: a second publish fails the same way rather than queueing behind it.
        await assert.rejects(publisher.publish([event]), /did not answer within/);
      } finally {
        await publisher.close();
      }
    },
  );
});
