import { loadConfigOrExit } from "@mimascota/shared/config";
import { createLogger } from "@mimascota/shared/logger";
import { runUntilSignal } from "@mimascota/shared/process";
import { startAuthService } from "./compose.ts";
import { loadAuthConfig } from "./config.ts";

const [config] = loadConfigOrExit(() => loadAuthConfig());
const logger = createLogger("auth", config.LOG_LEVEL);
const service = await startAuthService(config, { logger });
runUntilSignal(logger, () => service.close());
