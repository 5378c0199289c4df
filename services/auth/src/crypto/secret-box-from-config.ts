import { join } from "node:path";
import type { AuthConfig } from "../config.ts";
import { loadOrCreateKeyFile, parseEncryptionKey, SecretBox } from "../two-factor/secret-box.ts";

/**
 * The box that seals secrets at rest (signing keys, TOTP secrets): ENCRYPTION_KEY when configured (required
 * in production), else a key generated once under DATA_DIR, for the zero-setup embedded mode.
 */
export async function secretBoxFromConfig(
  config: Pick<AuthConfig, "ENCRYPTION_KEY" | "DATA_DIR">,
): Promise<SecretBox> {
  const key = config.ENCRYPTION_KEY
    ? parseEncryptionKey(config.ENCRYPTION_KEY)
    : await loadOrCreateKeyFile(join(config.DATA_DIR, "encryption.key"));
  return new SecretBox(key);
}
