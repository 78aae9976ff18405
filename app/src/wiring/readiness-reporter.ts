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

export function readinessReporter(
  instanceId: string,
  backends: Backends,
  drain: DrainState,
  region?: { name?: string; followsDatabase: boolean },
): () => Readiness {
  return () => {
    const dependencies = {
      redis: backends.valkey.currentHealth(),
      postgres: backends.db.health(),
      livekit: backends.livekitHealth.snapshot(),
    };
    const readiness: Readiness = { status: readinessStatus(dependencies), instance: instanceId, draining: drain.draining, dependencies };
    if (region?.followsDatabase === true) {
      const state = backends.db.region();
      readiness.region = {
        ...(region.name === undefined ? {} : { name: region.name }),
        role: state?.role ?? "unknown",
        ...(state?.epoch === undefined ? {} : { epoch: state.epoch }),
        ...(state?.lagSeconds === undefined ? {} : { replicationLagSeconds: state.lagSeconds }),
      };
    }
    return readiness;
  };
}
