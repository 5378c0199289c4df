import { loadConfigOrExit } from "@mimascota/shared/config";
import { createLogger } from "@mimascota/shared/logger";
import { runUntilSignal } from "@mimascota/shared/process";
import { startProfileService } from "./compose.ts";
import { loadProfilesConfig } from "./config.ts";

const [config] = loadConfigOrExit(() => loadProfilesConfig());
const logger = createLogger("profiles", config.LOG_LEVEL);
const service = await startProfileService(config, { logger });
runUntilSignal(logger, () => service.close());
