/** LiveKit access tokens built from the configuration: the deployments, their health, the room pins and the token cache. */
import type { ServiceConfig } from "../config";
import { LivekitTokens } from "../livekit/tokens";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import type { Backends } from "./backends";

export function createLivekitTokens(config: ServiceConfig, backends: Backends, logger: Logger, metrics: AppMetrics): LivekitTokens {
  return new LivekitTokens(
    config.livekitDeployments,
    backends.livekitHealth,
    backends.valkey,
    // An instance trusts its copy of a room's pin for one health interval: a pin to a deployment that turns unhealthy is dropped then.
    { tokenTtlSeconds: config.livekitTokenTtlSeconds, pinCacheMs: config.livekitHealthIntervalMs },
    logger,
    metrics,
  );
}
