/**
 * What /readyz reports: every dependency's health as this instance sees it, and whether the
 * instance is draining (shutting down: 503 whatever the dependencies say).
 */
import { readinessStatus, type Readiness } from "../http/readiness";
import type { Backends } from "./backends";

/** Set once when shutdown begins; read by /readyz and by the gateway (which then refuses upgrades). */
export class DrainState {
  private isDraining = false;

  get draining(): boolean {
    return this.isDraining;
  }

  start(): void {
    this.isDraining = true;
  }
}

export function readinessReporter(instanceId: string, backends: Backends, drain: DrainState): () => Readiness {
  return () => {
    const dependencies = {
      redis: backends.valkey.currentHealth(),
      postgres: backends.db.health(),
      livekit: backends.livekitHealth.snapshot(),
    };
    return { status: readinessStatus(dependencies), instance: instanceId, draining: drain.draining, dependencies };
  };
}
