import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { problems } from "../../src/errors.ts";
import { PasswordPolicy } from "../../src/services/password-policy.ts";

const policy = new PasswordPolicy();
const email = "juan.perez@example.com";

function reasonFor(password: string, forEmail = email): string | undefined {
  const verdict = policy.assess(password, forEmail);
  if (verdict.ok) return undefined;
  // The reason as the English problem detail renders it.
  return problems.error("WEAK_PASSWORD", { variant: verdict.reason, params: verdict.params ?? {} }).message;
}

describe("password policy", () => {
  it("accepts long passphrases and random strings without any composition rule", () => {
    for (const password of [
      "correct horse battery staple",
      "Kx9#mL2$vQ7!",
      "rojo tortuga bicicleta nube",
      "lowercaseonlybutlongandrandomish zqxv",
    ]) {
      assert.equal(reasonFor(password), undefined, password);
    }
  });

  it("counts Unicode code points after NFKC, not UTF-16 units or bytes", () => {
    // 12 emoji are 24 UTF-16 units; 11 are under the minimum however many bytes they take.
    assert.match(reasonFor("🐶🐱🐭🐹🐰🦊🐻🐼🐨🐯🦁")!, /at least 12/);
    assert.doesNotMatch(reasonFor("🐶🐱🐭🐹🐰🦊🐻🐼🐨🐯🦁🐮") ?? "", /at least 12/);
    // U+FB01 (ﬁ) is one code point but NFKC makes it two: "ﬁ" + 10 letters reaches 12.
    assert.doesNotMatch(reasonFor("ﬁxqzvbwkrtp") ?? "", /at least 12/);
  });

  it("refuses fewer than 12 and more than 128 characters, naming the limit", () => {
    assert.match(reasonFor("Kx9#mL2$vQ7")!, /at least 12 characters/);
    assert.match(reasonFor("x".repeat(129))!, /at most 128 characters/);
  });

  it("refuses common and breached passwords from the shipped dictionary, in any case or l33t spelling", () => {
    for (const password of [
      "password1234",
      "P@ssw0rd12345",
      "1q2w3e4r5t6y",
      "qwertyuiop123",
      "iloveyou1234",
    ]) {
      const reason = reasonFor(password);
      assert.ok(reason, `${password} must be refused`);
    }
    assert.match(reasonFor("1q2w3e4r5t6y")!, /too common/);
  });

  it("refuses easily guessed patterns with a reason", () => {
    assert.match(reasonFor("aaaaaaaaaaaaaaaa")!, /too easy to guess/);
    assert.match(reasonFor("abcdefghijklmnop")!, /too easy to guess/);
  });

  it("refuses passwords containing the email's local part, with or without separators", () => {
    assert.match(reasonFor("juan.perez-es-genial")!, /email address/);
    assert.match(reasonFor("JuanPerez!Genial#22")!, /email address/);
    // A very short local part is not a usable context word: it would refuse good passwords.
    assert.equal(reasonFor("tortuga roja en bici", "jo@example.com"), undefined);
  });

  it("refuses passwords containing the product name", () => {
    assert.match(reasonFor("MiMascota-es-lo-mejor")!, /product name/);
    assert.match(reasonFor("mi mascota favorita 2024")!, /product name/);
  });

  it("refuses a long repetition of a common password (analysis bounded to the first 64 characters)", () => {
    for (const password of ["p@ssw0rd".repeat(16), "password".repeat(16)]) {
      assert.match(reasonFor(password)!, /too easy to guess|too common/);
    }
  });

  it("enforce throws WEAK_PASSWORD with the reason as detail", () => {
    assert.throws(
      () => policy.enforce("short", email),
      (error: unknown) => {
        const e = error as { code: string; status: number; message: string };
        return e.code === "WEAK_PASSWORD" && e.status === 400 && /at least 12/.test(e.message);
      },
    );
  });
});
