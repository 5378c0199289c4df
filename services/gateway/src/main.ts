import { loadConfigOrExit } from "@mimascota/shared/config";
import { createLogger } from "@mimascota/shared/logger";
import { runUntilSignal } from "@mimascota/shared/process";
import { startGateway } from "./compose.ts";
import { loadGatewayConfig } from "./config.ts";

const [config] = loadConfigOrExit(() => loadGatewayConfig());
const logger = createLogger("gateway", config.LOG_LEVEL);
const gateway = await startGateway(config, { logger });
runUntilSignal(logger, () => gateway.close());
