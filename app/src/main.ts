/**
 * Entry point: configuration from the environment, then the app; SIGTERM/SIGINT shut it down
 * gracefully (exit 0). A bad configuration prints which variable is wrong and exits 1.
 */
import { startApp } from "./app";
import { ServiceConfigError, loadServiceConfig, type ServiceConfig } from "./config";
import { createLogger } from "./logger";

async function main(): Promise<void> {
  let config: ServiceConfig;
  try {
    config = loadServiceConfig(process.env);
  } catch (error) {
    if (error instanceof ServiceConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, config.instanceId);
  process.on("uncaughtException", (error) => {
    logger.fatal({ err: error }, "uncaught exception");
    process.exit(1);
  });
  process.on("unhandledRejection", (reason) => {
    logger.fatal({ err: reason }, "unhandled rejection");
    process.exit(1);
  });

  let app;
  try {
    app = await startApp(config, { logger });
  } catch (error) {
    logger.fatal({ err: error }, "could not start");
    process.exit(1);
  }
  const running = app;
  let signalled = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, "shutting down");
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

void main();
