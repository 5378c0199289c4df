import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PasswordHasher } from "../../src/crypto/password-hasher.ts";

const params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

describe("PasswordHasher", () => {
  it("verifies what it hashed, NFKC-normalised, and refuses another password", async () => {
    const hasher = new PasswordHasher(params);
    const stored = await hasher.hash("ﬁdo corre por el parque");
    assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await hasher.verify(stored, "fido corre por el parque"), true);
    assert.equal(await hasher.verify(stored, "fido corre por la playa"), false);
    assert.equal(await hasher.verify("not a phc string", "fido corre por el parque"), false);
  });

  it("runs at most `concurrency` hashes at once; the rest wait their turn and all complete", async () => {
    const hasher = new PasswordHasher(params, 1);
    const stored = await hasher.hash("gato naranja en la ventana");
    const running = [
      hasher.verify(stored, "gato naranja en la ventana"),
      hasher.verify(stored, "perro"),
      hasher.verifyDummy("gato naranja en la ventana"),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    // verifyDummy first hashes its dummy password (one more in the queue), then verifies against it.
    assert.deepEqual(hasher.load, { active: 1, pending: 2 });
    assert.deepEqual(await Promise.all(running), [true, false, false]);
    assert.deepEqual(hasher.load, { active: 0, pending: 0 });
  });

  it("with a higher concurrency, runs that many together", async () => {
    const hasher = new PasswordHasher(params, 2);
    const stored = await hasher.hash("tortuga lenta");
    const running = [1, 2, 3].map(() => hasher.verify(stored, "tortuga lenta"));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(hasher.load, { active: 2, pending: 1 });
    assert.deepEqual(await Promise.all(running), [true, true, true]);
  });

  it("asks for a rehash of weaker or foreign hashes only", async () => {
    const hasher = new PasswordHasher(params);
    assert.equal(hasher.needsRehash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"), false);
    assert.equal(hasher.needsRehash("$argon2id$v=19$m=8192,t=2,p=1$c2FsdA$aGFzaA"), true);
    assert.equal(hasher.needsRehash("$argon2id$v=19$m=19456,t=1,p=1$c2FsdA$aGFzaA"), true);
    assert.equal(hasher.needsRehash("$2b$10$abcdefghijklmnopqrstuv"), true);
  });
});
