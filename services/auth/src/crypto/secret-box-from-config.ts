import { join } from "node:path";
import type { AuthConfig } from "../config.ts";
import { keyRingBox, loadOrCreateKeyFile, SecretBox } from "../two-factor/secret-box.ts";

/**
 * The box that seals secrets at rest (signing keys, TOTP secrets): ENCRYPTION_KEY when configured (required
 * in production), with ENCRYPTION_KEYS_PREVIOUS still opening what older keys sealed; else a key generated
 * once under DATA_DIR, for the zero-setup embedded mode.
 */
export async function secretBoxFromConfig(
  config: Pick<AuthConfig, "ENCRYPTION_KEY" | "ENCRYPTION_KEYS_PREVIOUS" | "DATA_DIR">,
): Promise<SecretBox> {
  if (!config.ENCRYPTION_KEY) {
    return new SecretBox(await loadOrCreateKeyFile(join(config.DATA_DIR, "encryption.key")));
  }
  return keyRingBox(config.ENCRYPTION_KEY, config.ENCRYPTION_KEYS_PREVIOUS);
}
