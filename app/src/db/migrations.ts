/**
 * Schema migrations, applied once at start in one transaction under a transaction-scoped advisory
 * lock, so that instances starting together apply each migration exactly once (the others wait, then
 * find it applied), also through a transaction-mode connection pool.
 */
import type { Pool } from "pg";
import { errorMessage } from "../errors";
import type { Logger } from "../logger";
import type { Database } from "./database";

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "rooms",
    sql: `CREATE TABLE rooms (
      id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  },
  {
    // The access model (docs/service-contract.md, "Access"): who may use a room, and as what. Every existing room's
    // creator becomes its owner, so rooms created before this migration stay usable by whoever made them.
    id: 2,
    name: "room_members",
    sql: `CREATE TABLE room_members (
      room_id text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
      user_id text NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 128),
      role text NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
      added_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (room_id, user_id)
    );
    INSERT INTO room_members (room_id, user_id, role) SELECT id, created_by, 'owner' FROM rooms`,
  },
];

/** Arbitrary constant identifying GoMeet's migration lock (advisory locks take a bigint). */
const MIGRATION_LOCK_ID = 4_714_200_401;

/**
 * Applies pending migrations; returns the ids applied by this call.
 *
 * Everything runs in one transaction that first takes a transaction-scoped advisory lock
 * (pg_advisory_xact_lock), so it works through a transaction-mode pool (DigitalOcean's PgBouncer):
 * a pool hands each transaction to some server connection, and a session lock taken by one
 * statement (pg_advisory_lock) could be held by a server connection that the unlock never reaches
 * (the lock leaks; the next instance waits forever). An instance that starts meanwhile waits on the
 * lock, then finds the migrations applied. DDL is transactional in PostgreSQL: a failed migration
 * leaves nothing behind, and none after it is tried.
 */
export async function migrate(pool: Pool, logger: Logger, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query("BEGIN");
    try {
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_ID]);
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      const done = new Set((await client.query<{ id: number }>("SELECT id FROM schema_migrations")).rows.map((row) => row.id));
      for (const migration of migrations) {
        if (done.has(migration.id)) continue;
        await client.query(migration.sql);
        await client.query("INSERT INTO schema_migrations (id, name) VALUES ($1, $2)", [migration.id, migration.name]);
        applied.push(migration.id);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client
        .query("ROLLBACK")
        .catch((rollbackError: unknown) =>
          logger.error({ err: rollbackError }, "migrations: ROLLBACK failed after an error (the connection is discarded)"),
        );
      throw error;
    }
  } catch (error) {
    // A connection whose transaction state is unknown must not go back to the pool.
    client.release(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
  client.release();
  for (const id of applied) logger.info({ migration: id, name: migrations.find((m) => m.id === id)?.name }, "migration applied");
  return applied;
}

/**
 * REGION_ROLE=auto: migrations run when the database is a writable primary, now (it answered as one at start) or once
 * it becomes one (a standby region's node promoted, or a database that did not answer at start). A standby has the
 * primary region's schema by replication. An instance in a standby region therefore starts without writing anything,
 * and one whose database does not answer at start starts degraded (/readyz 200, writes 503) instead of exiting.
 */
export async function migrateOnPromotion(db: Database, logger: Logger, retryMs = 2000): Promise<void> {
  let done = false;
  let running = false;
  const attempt = (): void => {
    if (done || running || db.region()?.role !== "primary") return;
    running = true;
    migrate(db.primary.pool, logger).then(
      () => {
        done = true;
        running = false;
      },
      (error: unknown) => {
        running = false;
        logger.error({ err: errorMessage(error) }, `migrations failed on the newly writable database; retrying in ${retryMs} ms`);
        setTimeout(attempt, retryMs).unref();
      },
    );
  };
  db.onRegionRole((state) => {
    if (state.role === "primary") attempt();
  });
  if (db.region()?.role === "primary") {
    // Writable at start: as with REGION_ROLE=primary, a migration that fails stops the start.
    await migrate(db.primary.pool, logger);
    done = true;
  }
}
