import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "@mimascota/shared/clock";
import { ScureBase32Plugin } from "otplib";
import { generateSecret, generateTotp, otpauthUrl, totpStep, verifyTotp } from "../../src/two-factor/totp.ts";

// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII seed "12345678901234567890", 8-digit codes.
const rfcSecret = new ScureBase32Plugin().encode(new TextEncoder().encode("12345678901234567890"));
const rfcVectors: Array<[seconds: number, code: string]> = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];
const at = (seconds: number) => new Date(seconds * 1000);
/** A fixed 160-bit secret where a test must be deterministic (no chance coincidence between two codes). */
const fixedSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

describe("TOTP (RFC 6238, SHA-1, 30 s)", () => {
  it("generates the RFC 6238 Appendix B SHA-1 codes", async () => {
    for (const [seconds, code] of rfcVectors) {
      assert.equal(await generateTotp(rfcSecret, at(seconds), 8), code, `T=${seconds}`);
    }
  });

  it("accepts each RFC 6238 Appendix B SHA-1 code at its time and reports its step", async () => {
    for (const [seconds, code] of rfcVectors) {
      const result = await verifyTotp(rfcSecret, code, { now: at(seconds), digits: 8 });
      assert.deepEqual(result, { ok: true, step: Math.floor(seconds / 30) }, `T=${seconds}`);
    }
  });

  it("makes 160-bit base32 secrets that differ every time", () => {
    const secrets = new Set(Array.from({ length: 20 }, () => generateSecret()));
    assert.equal(secrets.size, 20);
    for (const secret of secrets) {
      assert.match(secret, /^[A-Z2-7]{32}$/); // 32 × 5 bits = 160 bits, no padding needed
      const bytes = new ScureBase32Plugin().decode(secret);
      assert.equal(bytes.length, 20);
    }
  });

  it("accepts codes from the previous, current and next step", async () => {
    const clock = new ManualClock("2026-03-01T10:00:10Z");
    const secret = generateSecret();
    const now = clock.now();
    for (const offset of [-1, 0, 1]) {
      const code = await generateTotp(secret, new Date(now.getTime() + offset * 30_000));
      assert.deepEqual(await verifyTotp(secret, code, { now }), { ok: true, step: totpStep(now) + offset });
    }
  });

  it("rejects codes two or more steps away", async () => {
    const clock = new ManualClock("2026-03-01T10:00:00Z");
    const secret = fixedSecret;
    const now = clock.now();
    for (const offset of [-3, -2, 2, 3]) {
      const code = await generateTotp(secret, new Date(now.getTime() + offset * 30_000));
      assert.deepEqual(await verifyTotp(secret, code, { now }), { ok: false }, `offset ${offset}`);
    }
  });

  it("keeps accepting a code while the clock moves within the window, then stops", async () => {
    const clock = new ManualClock("2026-03-01T10:00:00Z");
    const secret = fixedSecret;
    const code = await generateTotp(secret, clock.now());
    clock.advance(59_000);
    assert.equal((await verifyTotp(secret, code, { now: clock.now() })).ok, true);
    clock.advance(1_000); // now two steps later
    assert.equal((await verifyTotp(secret, code, { now: clock.now() })).ok, false);
  });

  it("rejects a replay of the step last used, and any earlier step", async () => {
    const clock = new ManualClock("2026-03-01T10:00:00Z");
    const secret = generateSecret();
    const code = await generateTotp(secret, clock.now());
    const first = await verifyTotp(secret, code, { now: clock.now() });
    assert.equal(first.ok, true);
    const lastUsedStep = first.ok ? first.step : -1;
    assert.deepEqual(await verifyTotp(secret, code, { now: clock.now(), lastUsedStep }), { ok: false });

    const previous = await generateTotp(secret, new Date(clock.now().getTime() - 30_000));
    assert.deepEqual(await verifyTotp(secret, previous, { now: clock.now(), lastUsedStep }), { ok: false });

    const next = await generateTotp(secret, new Date(clock.now().getTime() + 30_000));
    assert.deepEqual(await verifyTotp(secret, next, { now: clock.now(), lastUsedStep }), {
      ok: true,
      step: lastUsedStep + 1,
    });
  });

  it("rejects every code when the last used step is already the newest in the window", async () => {
    const clock = new ManualClock("2026-03-01T10:00:00Z");
    const secret = generateSecret();
    const step = totpStep(clock.now());
    for (const lastUsedStep of [step + 1, step + 5]) {
      const next = await generateTotp(secret, new Date(clock.now().getTime() + 30_000));
      assert.deepEqual(await verifyTotp(secret, next, { now: clock.now(), lastUsedStep }), { ok: false });
    }
  });

  it("rejects codes that are not exactly six ASCII digits, without throwing", async () => {
    const clock = new ManualClock("2026-03-01T10:00:00Z");
    const secret = generateSecret();
    const code = await generateTotp(secret, clock.now());
    const malformed: unknown[] = [
      code.slice(0, 5),
      `${code}0`,
      ` ${code}`,
      `${code}\n`,
      code.replace(/^./, "a"),
      [...code].map((d) => String.fromCharCode(0xff10 + Number(d))).join(""), // full-width digits
      [...code].map((d) => String.fromCharCode(0x0660 + Number(d))).join(""), // Arabic-Indic digits
      Number(code),
      "",
      null,
      undefined,
      "12 345",
      "-12345",
      "1e5000",
    ];
    for (const input of malformed) {
      assert.deepEqual(await verifyTotp(secret, input, { now: clock.now() }), { ok: false }, String(input));
    }
    assert.equal((await verifyTotp(secret, code, { now: clock.now() })).ok, true);
  });

  it("refuses a lastUsedStep that is not a non-negative integer (a caller bug, not a user error)", async () => {
    const secret = generateSecret();
    for (const lastUsedStep of [-1, 1.5, Number.NaN]) {
      await assert.rejects(verifyTotp(secret, "123456", { now: new Date(), lastUsedStep }), RangeError);
    }
  });

  it("formats the otpauth URL exactly, with a literal @ and other email characters percent-encoded", () => {
    const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    assert.equal(
      otpauthUrl("ana@example.com", secret),
      "otpauth://totp/Mi%20Mascota:ana@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" +
        "&issuer=Mi%20Mascota&algorithm=SHA1&digits=6&period=30",
    );
    assert.equal(
      otpauthUrl("ana+pets@example.com", secret),
      "otpauth://totp/Mi%20Mascota:ana%2Bpets@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" +
        "&issuer=Mi%20Mascota&algorithm=SHA1&digits=6&period=30",
    );
  });

  it("builds an otpauth URL that a URL parser reads back to the same parameters", () => {
    const secret = generateSecret();
    const url = new URL(otpauthUrl("josé.o'neil+x@example.com", secret));
    assert.equal(url.protocol, "otpauth:");
    assert.equal(url.host, "totp");
    assert.equal(decodeURIComponent(url.pathname.slice(1)), "Mi Mascota:josé.o'neil+x@example.com");
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      secret,
      issuer: "Mi Mascota",
      algorithm: "SHA1",
      digits: "6",
      period: "30",
    });
  });
});
