/**
 * A region's role, learnt from its own database (REGION_ROLE=auto): the database endpoint of a standby region is a
 * read-only node streaming from the primary region; once promoted it takes writes. One query, run with every health
 * check of the primary endpoint, says which it is, the realtime epoch, and (on a standby) the replication lag.
 *
 * Epoch: the PostgreSQL timeline the region writes on. A primary writes on its timeline; a standby will write on the
 * next one once promoted (promotion always starts a new timeline), so a standby region already counts in that epoch.
 * Every failover (in-region or across regions) moves to a higher timeline; the realtime seq counters of an epoch start
 * above (epoch - 1) * SEQ_EPOCH_SPAN (realtime/room-log.ts), so a region never reissues seqs another region's Valkey
 * issued before it was lost (docs/service-contract.md, "Across a region failover").
 *
 * Replication lag: now() - pg_last_xact_replay_timestamp() is the age of the last transaction replayed, which keeps
 * growing while an idle primary commits nothing. When everything received has been replayed the lag is 0 instead
 * (receive LSN = replay LSN): that is "caught up", whatever the age of the last commit. A standby that has lost its
 * primary keeps its last received LSN, so its lag reads 0 too: the alert on this metric needs the primary region's
 * health besides it (region-cloud's GoMeetReplicationLag rule).
 */

export type RegionRole = "primary" | "standby";

/** Seqs of one epoch: ample for any room (10^12 messages), and 999 epochs stay within 15 digits (the `since` bound). */
export const SEQ_EPOCH_SPAN = 1_000_000_000_000;
export const MAX_EPOCH = 999;

export const REGION_ROLE_QUERY = `SELECT pg_is_in_recovery() AS recovery,
  CASE WHEN pg_is_in_recovery()
    THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint())) + 1
    ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int
  END AS epoch,
  CASE WHEN NOT pg_is_in_recovery() THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
  END::float8 AS lag_seconds`;

export interface RegionRoleRow {
  recovery: boolean;
  epoch: number | string | null;
  lag_seconds: number | null;
}

export interface RegionRoleState {
  role: RegionRole;
  /** undefined when the database did not say (e.g. no privilege to read the standby's timeline). */
  epoch: number | undefined;
  /** Standby only: seconds behind the primary (0: everything received is replayed). */
  lagSeconds: number | undefined;
}

export function parseRegionRole(row: RegionRoleRow | undefined): RegionRoleState {
  if (row === undefined) throw new Error("the region-role query returned no row");
  const epoch = row.epoch === null ? undefined : Number(row.epoch);
  return {
    role: row.recovery ? "standby" : "primary",
    epoch: epoch !== undefined && Number.isInteger(epoch) && epoch >= 1 ? Math.min(epoch, MAX_EPOCH) : undefined,
    lagSeconds: row.lag_seconds === null ? undefined : Math.max(0, row.lag_seconds),
  };
}

/** The lowest seq counter value of an epoch: seqs issued in it are above it. */
export function seqFloorOf(epoch: number | undefined): number {
  return epoch === undefined ? 0 : (Math.min(epoch, MAX_EPOCH) - 1) * SEQ_EPOCH_SPAN;
}
