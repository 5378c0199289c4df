import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { skipUnlessPrograms } from "@mimascota/shared/testing/services";

/**
 * Debian's independent implementations for cross-checks: `oathtool` (TOTP) and `zbarimg` (QR decoding,
 * package zbar-tools). Without them a suite skips locally and fails when MIMASCOTA_REQUIRE_SERVICES=1 (CI
 * installs both).
 */
const run = promisify(execFile);

/** For a suite's `skip`: both cross-check tools. */
export const skipUnlessCrossCheckTools = () =>
  skipUnlessPrograms(["oathtool", "--version"], ["zbarimg", "--version"]);

/** The 6-digit SHA-1 30 s code oathtool computes for a base32 `secret` at `at`. */
export async function oathtoolCode(secret: string, at: Date): Promise<string> {
  const seconds = Math.floor(at.getTime() / 1000);
  const { stdout } = await run(
    "oathtool",
    ["--totp=sha1", "--digits=6", "--time-step-size=30s", "--base32", `--now=@${seconds}`, secret],
    { timeout: 10_000 },
  );
  return stdout.trim();
}

/** The text zbarimg reads from a `data:image/png;base64,` QR code. */
export async function zbarDecode(dataUrl: string): Promise<string> {
  const prefix = "data:image/png;base64,";
  assert.ok(dataUrl.startsWith(prefix), "a PNG data URL");
  const dir = await mkdtemp(join(tmpdir(), "mm-qr-"));
  try {
    const path = join(dir, "qr.png");
    await writeFile(path, Buffer.from(dataUrl.slice(prefix.length), "base64"));
    // zbarimg may complain on stderr about D-Bus; the decoded text is the only thing on stdout.
    const { stdout } = await run("zbarimg", ["--raw", "-q", path], { timeout: 20_000 });
    assert.ok(stdout.endsWith("\n"));
    return stdout.slice(0, -1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
