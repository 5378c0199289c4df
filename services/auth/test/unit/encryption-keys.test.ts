import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { ConfigError } from "@mimascota/shared/config";
import { loadAuthConfig } from "../../src/config.ts";
import { secretBoxFromConfig } from "../../src/crypto/secret-box-from-config.ts";
import { SecretBox } from "../../src/two-factor/secret-box.ts";

const key = () => randomBytes(32).toString("base64");
const config = (env: Record<string, string>) =>
  loadAuthConfig({ NODE_ENV: "test", DATA_DIR: "/nonexistent", ...env });

describe("ENCRYPTION_KEY and ENCRYPTION_KEYS_PREVIOUS", () => {
  it("a bare key is version 1; with older keys configured, old values open and new ones use the current key", async () => {
    const [k1, k2] = [key(), key()];
    const sealedByOld = (await secretBoxFromConfig(config({ ENCRYPTION_KEY: k1 }))).seal(
      "JBSWY3DP",
      "totp:u1",
    );
    assert.match(sealedByOld, /^v1\./);
    const box = await secretBoxFromConfig(
      config({ ENCRYPTION_KEY: `2:${k2}`, ENCRYPTION_KEYS_PREVIOUS: `1:${k1}` }),
    );
    assert.equal(box.open(sealedByOld, "totp:u1"), "JBSWY3DP");
    assert.equal(box.needsReseal(sealedByOld), true);
    const sealedByNew = box.seal("JBSWY3DP", "totp:u1");
    assert.match(sealedByNew, /^v2\./);
    assert.equal(box.needsReseal(sealedByNew), false);
    // Only the current key once the old one is dropped: new values open, old ones no longer do.
    const newOnly = new SecretBox({ version: 2, key: Buffer.from(k2, "base64") });
    assert.equal(newOnly.open(sealedByNew, "totp:u1"), "JBSWY3DP");
    assert.throws(() => newOnly.open(sealedByOld, "totp:u1"), { name: "SecretBoxError" });
  });

  it("several previous keys, comma-separated, each open what it sealed", async () => {
    const [k1, k2, k3] = [key(), key(), key()];
    const v1 = new SecretBox({ version: 1, key: Buffer.from(k1, "base64") }).seal("a", "x");
    const v2 = new SecretBox({ version: 2, key: Buffer.from(k2, "base64") }).seal("b", "x");
    const box = await secretBoxFromConfig(
      config({ ENCRYPTION_KEY: `3:${k3}`, ENCRYPTION_KEYS_PREVIOUS: ` 1:${k1} , 2:${k2} ` }),
    );
    assert.deepEqual([box.open(v1, "x"), box.open(v2, "x")], ["a", "b"]);
  });

  it("refuses at start a malformed key, a previous key without its version, or a version used twice, without echoing the key", () => {
    const secret = key();
    const cases: [Record<string, string>, RegExp][] = [
      [{ ENCRYPTION_KEY: "not base64!" }, /ENCRYPTION_KEY: Encryption key is not base64/],
      [{ ENCRYPTION_KEY: `2:${secret.slice(0, 20)}` }, /ENCRYPTION_KEY: Encryption key must be 32 bytes/],
      [{ ENCRYPTION_KEY: `0:${secret}` }, /ENCRYPTION_KEY: the version must be a positive integer/],
      [
        { ENCRYPTION_KEY: `2:${key()}`, ENCRYPTION_KEYS_PREVIOUS: secret },
        /PREVIOUS entry 1: expected <version>:/,
      ],
      [
        { ENCRYPTION_KEY: `2:${key()}`, ENCRYPTION_KEYS_PREVIOUS: `1:${key()},2:${secret}` },
        /version 2 is used twice/,
      ],
      [{ ENCRYPTION_KEYS_PREVIOUS: `1:${secret}` }, /ENCRYPTION_KEYS_PREVIOUS: needs ENCRYPTION_KEY/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => config(env),
        (error: Error) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.match(error.message, message);
          assert.ok(!error.message.includes(secret.slice(0, 12)), "the key material is not in the message");
          return true;
        },
      );
    }
  });
});
