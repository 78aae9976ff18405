/**
 * Which LiveKit deployment each room uses — the one module that reads and writes the room's pin
 * (room:{id}:livekit).
 *
 * The pin is chosen atomically in Valkey (lua/pin-deployment.lua): kept while its deployment is
 * healthy, else moved to the next healthy deployment in configuration order, so concurrent requests
 * on any instance agree. Each instance remembers a pin for at most `pinCacheMs` (one health
 * interval), so the common path needs no Valkey round trip; pins to a deployment that turns
 * unhealthy are forgotten at once.
 */
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { DependencyUnavailableError, errorMessage } from "../errors";
import type { ValkeyConnections } from "../valkey/connections";
import type { PIN_SCRIPTS } from "./pin-scripts";
import { roomKey } from "../valkey/keys";
import type { LivekitHealth } from "./health";

/** String: name of the LiveKit deployment the room is pinned to. */
export function roomPinKey(roomId: string): string {
  return roomKey(roomId, "livekit");
}

/** Pins outlive idle rooms by a day; refreshed on every lookup that reaches Valkey. */
const PIN_TTL_MS = 24 * 60 * 60 * 1000;
const PIN_CACHE_MAX_ENTRIES = 100_000;

export class RoomPins {
  private readonly pins = new Map<string, { deployment: string; until: number }>();

  constructor(
    /** Deployment names in configuration order (the failover order). */
    private readonly names: readonly string[],
    private readonly health: LivekitHealth,
    private readonly valkey: ValkeyConnections<typeof PIN_SCRIPTS>,
    private readonly options: { pinCacheMs: number },
    private readonly logger: Logger,
    private readonly metrics: AppMetrics,
  ) {}

  /**
   * The name of the healthy deployment the room is pinned to, pinning it (or moving it off an
   * unhealthy one) if needed. Throws DependencyUnavailableError when no deployment is healthy. When
   * Valkey is away, every instance falls back to the same choice: the first healthy deployment.
   */
  async deploymentFor(roomId: string): Promise<string> {
    const known = this.pins.get(roomId);
    if (known !== undefined && known.until > Date.now() && this.health.isHealthy(known.deployment)) return known.deployment;
    const order = this.names.map((name) => ({ name, healthy: this.health.isHealthy(name) }));
    const firstHealthy = order.find((deployment) => deployment.healthy);
    if (firstHealthy === undefined) throw new DependencyUnavailableError("livekit_unavailable", "No LiveKit deployment is healthy");
    let chosen: string;
    try {
      const reply = await this.valkey.run((c) => c.pinDeployment({ pinKey: roomPinKey(roomId), ttlMs: PIN_TTL_MS, order }));
      if (reply.deployment === "") throw new DependencyUnavailableError("livekit_unavailable", "No LiveKit deployment is healthy");
      chosen = reply.deployment;
      if (reply.movedFrom !== undefined) {
        this.metrics.roomRepins.inc();
        this.logger.warn({ room: roomId, from: reply.movedFrom, to: chosen }, "room re-pinned to another LiveKit deployment");
      }
    } catch (error) {
      if (error instanceof DependencyUnavailableError) throw error;
      this.logger.warn({ room: roomId, err: errorMessage(error) }, "room pin unavailable; using the first healthy LiveKit deployment");
      chosen = firstHealthy.name;
    }
    if (this.pins.size >= PIN_CACHE_MAX_ENTRIES) this.pins.clear();
    this.pins.set(roomId, { deployment: chosen, until: Date.now() + this.options.pinCacheMs });
    return chosen;
  }

  /** The deployment turned unhealthy: this instance's pins to it are forgotten. */
  forgetDeployment(name: string): void {
    for (const [roomId, pin] of this.pins) if (pin.deployment === name) this.pins.delete(roomId);
  }
}
