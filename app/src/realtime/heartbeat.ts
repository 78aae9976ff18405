/**
 * The instance's heartbeat, every HEARTBEAT_INTERVAL_SECONDS: first the sockets (a ping each; one
 * that did not answer the previous ping is terminated), then presence in Valkey (this instance's
 * members refreshed, its own heartbeat recorded, dead instances purged).
 */
import { Periodic } from "../periodic";
import type { Hub } from "./hub";
import type { PresenceService } from "./presence";

export class Heartbeat {
  private readonly periodic: Periodic;

  constructor(intervalMs: number, hub: Hub, presence: PresenceService) {
    this.periodic = new Periodic(intervalMs, async () => {
      hub.pingSockets();
      await presence.beat();
    });
  }

  start(): void {
    this.periodic.start();
  }

  /** Stops beating and waits for a beat in progress. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }
}
