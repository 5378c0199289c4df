import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { ManualClock } from "@mimascota/shared/clock";
import { qrCodeDataUrl } from "../../src/two-factor/qr-code.ts";
import { generateSecret, otpauthUrl, totpStep, verifyTotp } from "../../src/two-factor/totp.ts";
import { skipUnlessPrograms } from "@mimascota/shared/testing/services";
import { oathtoolCode, zbarDecode } from "../support/system-tools.ts";

/**
 * Cross-checks against independent implementations from Debian: `oathtool` (OATH Toolkit) computes TOTP codes
 * from the secret our code generated, and `zbarimg` (zbar-tools) decodes the QR image our code drew. Without
 * the tools the suites skip locally and fail when MIMASCOTA_REQUIRE_SERVICES=1 (CI installs both).
 */
const run = promisify(execFile);

describe(
  "TOTP cross-checked with oathtool",
  { skip: await skipUnlessPrograms(["oathtool", "--version"]) },
  () => {
    it("accepts the code oathtool computes from a secret generateSecret() returned", async () => {
      const clock = new ManualClock("2026-03-01T10:00:17Z");
      for (let round = 0; round < 5; round++) {
        const secret = generateSecret();
        const code = await oathtoolCode(secret, clock.now());
        assert.match(code, /^[0-9]{6}$/);
        assert.deepEqual(await verifyTotp(secret, code, { now: clock.now() }), {
          ok: true,
          step: totpStep(clock.now()),
        });
        clock.advance(7 * 3600_000 + 13_000);
      }
    });

    it("agrees with oathtool on the ±1 step window and refuses oathtool's codes two steps away", async () => {
      const now = new Date("2026-03-01T10:00:00Z");
      const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"; // fixed, so no chance collision between steps
      for (const offset of [-2, -1, 0, 1, 2]) {
        const code = await oathtoolCode(secret, new Date(now.getTime() + offset * 30_000));
        const result = await verifyTotp(secret, code, { now });
        if (Math.abs(offset) <= 1) assert.deepEqual(result, { ok: true, step: totpStep(now) + offset });
        else assert.deepEqual(result, { ok: false }, `offset ${offset}`);
      }
    });

    it("accepts the current real-time code from oathtool (no --now)", async () => {
      const secret = generateSecret();
      const { stdout } = await run("oathtool", ["--totp", "-b", secret], { timeout: 10_000 });
      const result = await verifyTotp(secret, stdout.trim(), { now: new Date() });
      assert.equal(result.ok, true);
    });
  },
);

describe(
  "QR code cross-checked with zbarimg",
  { skip: await skipUnlessPrograms(["zbarimg", "--version"]) },
  () => {
    it("decodes the QR image of otpauthUrl back to exactly the same URL", async () => {
      const emails = ["ana@example.com", "ana.maria+perros@sub.example.org", "josé@ejemplo.es"];
      for (const email of emails) {
        const url = otpauthUrl(email, generateSecret());
        assert.equal(await zbarDecode(await qrCodeDataUrl(url)), url, email);
      }
    });
  },
);
