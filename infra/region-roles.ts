/**
 * Which region plays which role. A cell keeps its names for life (they are its resources' identities): the stack's
 * first region (`gomeet:region`) is named `gomeet-<stack>-*` as it was before there were two regions, the standby
 * region `gomeet-<stack>-<region>-*`. Roles move, names do not: after a failover (`gomeet:standby.promoted`) the
 * standby region's cell holds the primary database (the promoted node, adopted) and the first region's cell becomes
 * the standby, rebuilt as a read-only node of it (the failback path, docs/runbooks.md).
 */
import type { PostgresConfig, StackConfig } from "./config";
import { standbyDatabaseName } from "./standby-database";

/** A region's place in the stack. */
export interface CellRole {
  region: string;
  /** Name prefix of the cell's resources. */
  prefix: string;
  ipRange: string;
  firstRegion: boolean;
}

/** The primary database's cell: its config, and the node to adopt after a failover. */
export interface PrimaryCellRole extends CellRole {
  database: { role: "primary"; config: PostgresConfig; import?: { clusterId: string; clusterName: string } };
}

/** The stack's cells by role. */
export interface CellPlan {
  primary: PrimaryCellRole;
  standby?: CellRole;
  /** Every cell, the first region first. */
  all: CellRole[];
}

/** The roles of the stack's regions (see the file comment). */
export function cellPlan(prefix: string, config: Pick<StackConfig, "region" | "network" | "postgres" | "standby">): CellPlan {
  const first: CellRole = { region: config.region, prefix, ipRange: config.network.ipRange, firstRegion: true };
  const standby = config.standby;
  if (!standby) return { primary: { ...first, database: { role: "primary", config: config.postgres } }, all: [first] };
  const second: CellRole = {
    region: standby.region,
    prefix: `${prefix}-${standby.region}`,
    ipRange: standby.network.ipRange,
    firstRegion: false,
  };
  const all = [first, second];
  if (!standby.promoted) return { primary: { ...first, database: { role: "primary", config: config.postgres } }, standby: second, all };
  const clusterName = standbyDatabaseName(prefix, standby.region);
  return {
    primary: {
      ...second,
      database: { role: "primary", config: config.postgres, import: { clusterId: standby.promoted.postgresClusterId, clusterName } },
    },
    standby: first,
    all,
  };
}
