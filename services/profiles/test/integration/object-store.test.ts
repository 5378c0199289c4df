import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { pino } from "pino";
import { s3TestCredentials, serviceUrls, skipUnless, uniquePrefix } from "@mimascota/shared/testing/services";
import { createObjectStore } from "../../src/storage/create-object-store.ts";
import { InvalidObjectKeyError } from "../../src/storage/object-key.ts";
import type { ObjectStore } from "../../src/storage/object-store.ts";
import { storageConfigShape, type StorageConfig } from "../../src/storage/storage-config.ts";
import { z } from "zod";

const logger = pino({ level: "silent" });

function storageConfig(env: Record<string, string>): StorageConfig {
  return z.object(storageConfigShape).parse(env);
}

function s3Env(bucket: string, endpoint = serviceUrls.s3): Record<string, string> {
  return {
    S3_ENDPOINT: endpoint,
    S3_REGION: s3TestCredentials.region,
    S3_BUCKET: bucket,
    S3_ACCESS_KEY_ID: s3TestCredentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3TestCredentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: "true",
    S3_CREATE_BUCKET: "true",
  };
}

const key = (name: string) => `photos/${uniquePrefix(name)}.webp`;

/** The behaviour every ObjectStore promises, run below on the folder and on a real S3 server. */
function behavesAsAnObjectStore(store: () => ObjectStore): void {
  it("gives back what was put, with its content type and an etag", async () => {
    const k = key("round-trip");
    await store().put(k, Buffer.from("hello photo"), "image/webp");
    const object = await store().get(k);
    assert.ok(object);
    assert.equal(object.body.toString(), "hello photo");
    assert.equal(object.contentType, "image/webp");
    assert.match(object.etag, /^[0-9a-f]{32}$/);
  });

  it("keeps binary content byte for byte", async () => {
    const k = key("binary");
    // Every byte value, NULs and invalid UTF-8 included, then random bytes past one read chunk.
    const body = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300_000)]);
    await store().put(k, body, "application/octet-stream");
    const object = await store().get(k);
    assert.ok(object);
    assert.ok(object.body.equals(body));
    assert.equal(object.contentType, "application/octet-stream");
  });

  it("replaces an object on a second put, with a new etag", async () => {
    const k = key("overwrite");
    await store().put(k, Buffer.from("first"), "image/png");
    const first = await store().get(k);
    await store().put(k, Buffer.from("second version"), "image/jpeg");
    const second = await store().get(k);
    assert.ok(first && second);
    assert.equal(second.body.toString(), "second version");
    assert.equal(second.contentType, "image/jpeg");
    assert.notEqual(second.etag, first.etag);
  });

  it("gives the same etag for the same bytes", async () => {
    const [a, b] = [key("etag-a"), key("etag-b")];
    await store().put(a, Buffer.from("same bytes"), "image/webp");
    await store().put(b, Buffer.from("same bytes"), "image/webp");
    assert.equal((await store().get(a))?.etag, (await store().get(b))?.etag);
  });

  it("answers undefined for a key never put", async () => {
    assert.equal(await store().get(key("never")), undefined);
  });

  it("forgets a deleted object, and deleting an absent one succeeds", async () => {
    const k = key("delete");
    await store().put(k, Buffer.from("bye"), "image/webp");
    await store().delete(k);
    assert.equal(await store().get(k), undefined);
    await store().delete(k);
    await store().delete(key("never-there"));
  });

  it("refuses keys that could escape the store or mean different things on different stores", async () => {
    const bad = [
      "",
      "/photos/a.webp",
      "../a.webp",
      "photos/../../etc/passwd",
      "photos/..",
      "photos/.hidden",
      "photos//a.webp",
      "photos/a.webp/",
      "photos\\a.webp",
      "Photos/A.webp",
      "photos/a b.webp",
      "photos/a%2e%2e.webp",
      "photos/ä.webp",
      "photos/a..b.webp",
      `photos/${"a".repeat(201)}`,
      "photos/a.webp\0",
    ];
    for (const k of bad) {
      for (const call of [
        () => store().put(k, Buffer.from("x"), "image/webp"),
        () => store().get(k),
        () => store().delete(k),
      ]) {
        await assert.rejects(call, InvalidObjectKeyError, `key ${JSON.stringify(k)} was accepted`);
      }
    }
  });

  it("is ready when reachable", async () => {
    await store().ping();
  });
}

describe("folder object store", () => {
  let dataDir: string;
  let store: ObjectStore;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "mm-objects-"));
    store = await createObjectStore(storageConfig({}), { dataDir, logger });
  });
  after(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("is the folder store when S3_BUCKET is unset", () => {
    assert.equal(store.kind, "folder");
  });

  behavesAsAnObjectStore(() => store);

  it("leaves no temporary files behind and writes nothing outside <DATA_DIR>/objects", async () => {
    assert.deepEqual(await readdir(dataDir), ["objects"]);
    const names = await readdir(join(dataDir, "objects", "photos"));
    assert.deepEqual(
      names.filter((name) => name.endsWith(".tmp")),
      [],
    );
  });
});

describe("S3 object store (real S3 server)", { skip: await skipUnless("s3") }, () => {
  const bucket = uniquePrefix("mm-test");
  let store: ObjectStore;
  before(async () => {
    store = await createObjectStore(storageConfig(s3Env(bucket)), { dataDir: "/nonexistent", logger });
  });
  after(async () => {
    await store?.close();
    await deleteBucket(bucket);
  });

  it("is the S3 store when S3_BUCKET is set, and creating an existing bucket again is fine", async () => {
    assert.equal(store.kind, "s3");
    const again = await createObjectStore(storageConfig(s3Env(bucket)), { dataDir: "/nonexistent", logger });
    await again.ping();
    await again.close();
  });

  behavesAsAnObjectStore(() => store);

  it("is not ready when the bucket does not exist", async () => {
    const env = { ...s3Env(uniquePrefix("mm-missing")), S3_CREATE_BUCKET: "false" };
    const missing = await createObjectStore(storageConfig(env), { dataDir: "/nonexistent", logger });
    try {
      await assert.rejects(missing.ping());
    } finally {
      await missing.close();
    }
  });

  it("fails ping quickly against a closed port", async () => {
    const port = await closedPort();
    const env = { ...s3Env(bucket, `http://127.0.0.1:${port}`), S3_CREATE_BUCKET: "false" };
    const unreachable = await createObjectStore(storageConfig(env), { dataDir: "/nonexistent", logger });
    try {
      const started = Date.now();
      await assert.rejects(unreachable.ping());
      assert.ok(Date.now() - started < 3_000, `ping took ${Date.now() - started} ms`);
    } finally {
      await unreachable.close();
    }
  });

  it("fails calls within their timeouts against a server that accepts and never answers", async () => {
    const hung = await silentServer();
    const env = { ...s3Env(bucket, `http://127.0.0.1:${hung.port}`), S3_CREATE_BUCKET: "false" };
    const timeouts = { connectMs: 500, requestMs: 500, operationMs: 1_500, pingMs: 1_000 };
    const stuck = await createObjectStore(storageConfig(env), {
      dataDir: "/nonexistent",
      logger,
      s3Timeouts: timeouts,
    });
    try {
      for (const [call, budget] of [
        [() => stuck.ping(), timeouts.pingMs],
        [() => stuck.get(key("hung")), timeouts.operationMs],
        [() => stuck.put(key("hung"), Buffer.from("x"), "image/webp"), timeouts.operationMs],
      ] as const) {
        const started = Date.now();
        await assert.rejects(call());
        // The budget plus scheduling slack on a busy 2-core machine.
        assert.ok(
          Date.now() - started < budget + 1_000,
          `took ${Date.now() - started} ms (budget ${budget})`,
        );
      }
    } finally {
      await stuck.close();
      await hung.close();
    }
  });
});

/** A port nothing listens on: bound by the OS for a moment, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections, reads everything and never answers: a hung store. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", () => {});
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Leaves the shared test server as it was: every object of this run's bucket, then the bucket. */
async function deleteBucket(bucket: string): Promise<void> {
  const client = new S3Client({
    endpoint: serviceUrls.s3,
    region: s3TestCredentials.region,
    credentials: s3TestCredentials,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const object of listed.Contents ?? []) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}
