import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BACKUP_CODE_COUNT,
  generateBackupCodes,
  hashBackupCode,
  hashBackupCodes,
  matchBackupCode,
  normalizeBackupCode,
} from "../../src/two-factor/backup-codes.ts";

const format = /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/;

describe("backup codes", () => {
  it("makes 10 distinct codes formatted xxxxx-xxxxx from an alphabet without i, l, o or u", () => {
    const codes = generateBackupCodes();
    assert.equal(codes.length, BACKUP_CODE_COUNT);
    assert.equal(new Set(codes).size, BACKUP_CODE_COUNT);
    for (const code of codes) assert.match(code, format);
  });

  it("draws every symbol of its 32-symbol alphabet (50 bits per code) and nothing else", () => {
    const seen = new Set(generateBackupCodes(400).join("").replaceAll("-", ""));
    assert.equal(seen.size, 32); // 4000 draws: missing one of 32 symbols has probability < 1e-50
    for (const lookAlike of ["i", "l", "o", "u"]) assert.ok(!seen.has(lookAlike));
  });

  it("never repeats codes across calls", () => {
    const all = Array.from({ length: 50 }, () => generateBackupCodes()).flat();
    assert.equal(new Set(all).size, all.length);
  });

  it("stores salted argon2id hashes that never contain the code", async () => {
    const [code] = generateBackupCodes(1) as [string];
    const [first, second] = await hashBackupCodes([code, code]);
    assert.match(first!, /^\$argon2id\$/);
    assert.notEqual(first, code);
    assert.ok(!first!.includes(code) && !first!.includes(code.replace("-", "")));
    assert.notEqual(first, second, "two hashes of one code differ by salt");
  });

  it("finds the index of the matching code and -1 for a code not in the set", async () => {
    const codes = generateBackupCodes();
    const hashes = await hashBackupCodes(codes);
    assert.equal(await matchBackupCode(codes[0], hashes), 0);
    assert.equal(await matchBackupCode(codes[7], hashes), 7);
    const [stranger] = generateBackupCodes(1) as [string];
    assert.equal(await matchBackupCode(stranger, hashes), -1);
    assert.equal(await matchBackupCode(codes[3], hashes.toSpliced(3, 1)), -1, "a used code is gone");
    assert.equal(await matchBackupCode(codes[3], []), -1);
  });

  it("matches what a person types: any case, spaces, missing or other dashes, look-alike letters", async () => {
    const code = "0a1b2-c3d4e";
    const hashes = [await hashBackupCode(generateBackupCodes(1)[0]!), await hashBackupCode(code)];
    for (const typed of [
      "0A1B2-C3D4E",
      "0a1b2c3d4e",
      " 0a1b2 c3d4e ",
      "0a1b2–c3d4e",
      "oa1b2-c3d4e",
      "0aib2-c3d4e",
      "0aLb2-c3d4e",
    ]) {
      assert.equal(await matchBackupCode(typed, hashes), 1, typed);
    }
  });

  it("normalises to the canonical form or null", () => {
    assert.equal(normalizeBackupCode("ABCDE FGHJK"), "abcde-fghjk");
    assert.equal(normalizeBackupCode("abcde--fghjk"), "abcde-fghjk");
    assert.equal(normalizeBackupCode("O1IL0-zzzzz"), "01110-zzzzz");
    assert.equal(normalizeBackupCode("ＡＢＣＤＥ－ＦＧＨＪＫ"), "abcde-fghjk"); // full-width input
    for (const bad of [
      "",
      "123456",
      "abcd-fghjk",
      "abcdef-ghjkmn",
      "abcde-fghju",
      "abcde_fghjk",
      1234567890,
      null,
    ]) {
      assert.equal(normalizeBackupCode(bad), null, String(bad));
    }
    assert.equal(
      normalizeBackupCode(`${"a".repeat(5)}${" ".repeat(100)}${"b".repeat(5)}`),
      null,
      "over-long input",
    );
  });

  it("matches nothing for input that cannot be a backup code, and refuses to hash it", async () => {
    const hashes = [await hashBackupCode("12345-67890")];
    assert.equal(await matchBackupCode("123456", hashes), -1);
    assert.equal(await matchBackupCode(12345, hashes), -1);
    assert.equal(await matchBackupCode(1234567890, hashes), -1, "a JSON number is no code");
    await assert.rejects(hashBackupCode("123456"), RangeError);
  });

  it("treats a corrupt stored hash as no match rather than an error", async () => {
    const [code] = generateBackupCodes(1) as [string];
    assert.equal(await matchBackupCode(code, ["$argon2id$garbage", await hashBackupCode(code)]), 1);
  });
});
