import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile, chmod, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  SecretBox,
  SecretBoxError,
  loadOrCreateKeyFile,
  parseEncryptionKey,
} from "../../src/two-factor/secret-box.ts";

const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const aad = "totp:0b7c7e2e-8a51-4d6b-9a3e-3f1f5f7c9d10";

/** Flips one bit of the base64url part at `index` of a sealed value. */
function flipBit(sealed: string, index: number): string {
  const parts = sealed.split(".");
  const bytes = Buffer.from(parts[index]!, "base64url");
  bytes[0]! ^= 0x01;
  parts[index] = bytes.toString("base64url");
  return parts.join(".");
}

describe("SecretBox (AES-256-GCM)", () => {
  const box = new SecretBox(randomBytes(32));

  it("opens what it sealed with the same associated data", () => {
    assert.equal(box.open(box.seal(secret, aad), aad), secret);
    assert.equal(box.open(box.seal("", aad), aad), "");
    assert.equal(box.open(box.seal("ñandú 🐾", aad), aad), "ñandú 🐾");
  });

  it("writes v1.<iv>.<tag>.<ciphertext> in base64url with a 96-bit IV and never the plaintext", () => {
    const sealed = box.seal(secret, aad);
    const [version, iv, tag, ciphertext, ...rest] = sealed.split(".");
    assert.equal(version, "v1");
    assert.deepEqual(rest, []);
    for (const part of [iv, tag, ciphertext]) assert.match(part!, /^[A-Za-z0-9_-]+$/);
    assert.equal(Buffer.from(iv!, "base64url").length, 12);
    assert.equal(Buffer.from(tag!, "base64url").length, 16);
    assert.equal(Buffer.from(ciphertext!, "base64url").length, Buffer.byteLength(secret));
    assert.ok(!sealed.includes(secret));
  });

  it("uses a fresh IV each time, so sealing the same secret twice gives different values", () => {
    const values = new Set(Array.from({ length: 50 }, () => box.seal(secret, aad)));
    assert.equal(values.size, 50);
    const ivs = new Set([...values].map((v) => v.split(".")[1]));
    assert.equal(ivs.size, 50);
  });

  it("refuses to open with other associated data (a secret copied to another user's row)", () => {
    const sealed = box.seal(secret, aad);
    assert.throws(() => box.open(sealed, "totp:another-user"), SecretBoxError);
    assert.throws(() => box.open(sealed, ""), SecretBoxError);
  });

  it("refuses to open a tampered IV, tag or ciphertext", () => {
    const sealed = box.seal(secret, aad);
    for (const index of [1, 2, 3]) {
      assert.throws(() => box.open(flipBit(sealed, index), aad), SecretBoxError, `part ${index}`);
    }
  });

  it("refuses to open with a different key", () => {
    const other = new SecretBox(randomBytes(32));
    assert.throws(() => other.open(box.seal(secret, aad), aad), SecretBoxError);
  });

  it("refuses malformed values and unknown versions", () => {
    const sealed = box.seal(secret, aad);
    const [, iv, tag, ciphertext] = sealed.split(".");
    for (const bad of [
      "",
      "v1",
      `v1.${iv}.${tag}`,
      `${sealed}.x`,
      `v2.${iv}.${tag}.${ciphertext}`,
      `v0.${iv}.${tag}.${ciphertext}`,
      `x1.${iv}.${tag}.${ciphertext}`,
      `v1.${iv}.${tag!.slice(0, 10)}.${ciphertext}`,
      `v1.${iv}+.${tag}.${ciphertext}`,
    ]) {
      assert.throws(() => box.open(bad, aad), SecretBoxError, bad);
    }
  });

  it("refuses keys that are not 32 bytes and repeated or invalid versions", () => {
    assert.throws(() => new SecretBox(randomBytes(16)), RangeError);
    assert.throws(() => new SecretBox(randomBytes(33)), RangeError);
    const key = randomBytes(32);
    assert.throws(() => new SecretBox({ version: 0, key }), RangeError);
    assert.throws(
      () => new SecretBox({ version: 2, key }, [{ version: 2, key: randomBytes(32) }]),
      RangeError,
    );
  });

  it("rotates keys: new values use the current version, old ones still open and report needsReseal", () => {
    const oldKey = { version: 1, key: randomBytes(32) };
    const oldBox = new SecretBox(oldKey);
    const sealedBefore = oldBox.seal(secret, aad);

    const rotated = new SecretBox({ version: 2, key: randomBytes(32) }, [oldKey]);
    assert.equal(rotated.open(sealedBefore, aad), secret);
    assert.equal(rotated.needsReseal(sealedBefore), true);

    const resealed = rotated.seal(secret, aad);
    assert.match(resealed, /^v2\./);
    assert.equal(rotated.needsReseal(resealed), false);
    assert.throws(() => oldBox.open(resealed, aad), SecretBoxError);
  });

  it("authenticates the version, so relabelling a value with another key's version fails", () => {
    const key = randomBytes(32);
    const sameKeyTwice = new SecretBox({ version: 2, key }, [{ version: 1, key }]);
    const sealed = sameKeyTwice.seal(secret, aad);
    assert.throws(() => sameKeyTwice.open(sealed.replace(/^v2\./, "v1."), aad), SecretBoxError);
  });
});

describe("parseEncryptionKey", () => {
  it("accepts standard and url-safe base64 of 32 bytes", () => {
    const key = randomBytes(32);
    assert.deepEqual(parseEncryptionKey(key.toString("base64")), key);
    assert.deepEqual(parseEncryptionKey(` ${key.toString("base64url")}\n`), key);
  });

  it("refuses other lengths and non-base64 text", () => {
    assert.throws(() => parseEncryptionKey(randomBytes(31).toString("base64")), RangeError);
    assert.throws(() => parseEncryptionKey(randomBytes(64).toString("base64")), RangeError);
    assert.throws(() => parseEncryptionKey("not a key!"), RangeError);
    assert.throws(() => parseEncryptionKey(""), RangeError);
  });
});

/**
 * Windows has no POSIX permission bits: Node reports 0o666 (0o444 when read-only) whatever the ACLs say, and
 * there the key is as private as the folder DATA_DIR is in.
 */
const noPosixModes = process.platform === "win32" && "Windows has no POSIX file modes to assert";

describe("loadOrCreateKeyFile", async () => {
  const dir = await mkdtemp(join(tmpdir(), "mm-secret-box-"));
  after(() => rm(dir, { recursive: true, force: true }));

  it("creates a 32-byte key (and missing folders) when the file is missing", async () => {
    const path = join(dir, "nested", "data", "encryption.key");
    const key = await loadOrCreateKeyFile(path);
    assert.equal(key.length, 32);
    assert.deepEqual(parseEncryptionKey(await readFile(path, "utf8")), key);
  });

  it("creates the key file readable by its owner only (mode 0600)", { skip: noPosixModes }, async () => {
    const path = join(dir, "private", "encryption.key");
    await loadOrCreateKeyFile(path);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it("returns the same key on every later load", async () => {
    const path = join(dir, "again.key");
    const first = await loadOrCreateKeyFile(path);
    assert.deepEqual(await loadOrCreateKeyFile(path), first);
  });

  it("gives every concurrent caller the same key and leaves no temporary files", async () => {
    const sub = join(dir, "race");
    const path = join(sub, "encryption.key");
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyFile(path)));
    for (const key of keys) assert.deepEqual(key, keys[0]);
    assert.deepEqual(await readdir(sub), ["encryption.key"]);
  });

  it("narrows a key file readable by others to 0600", { skip: noPosixModes }, async () => {
    const path = join(dir, "loose.key");
    await writeFile(path, randomBytes(32).toString("base64"));
    await chmod(path, 0o644);
    await loadOrCreateKeyFile(path);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it("refuses a key file that does not hold a 32-byte key instead of replacing it", async () => {
    const path = join(dir, "broken.key");
    await writeFile(path, "short", { mode: 0o600 });
    await assert.rejects(loadOrCreateKeyFile(path), /does not hold a 32-byte base64 key/);
    assert.equal(await readFile(path, "utf8"), "short");
  });
});
