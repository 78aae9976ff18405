/**
 * Schema migrations, applied once at start under a PostgreSQL advisory lock, so that instances
 * starting together apply each migration exactly once (the others wait, then find it applied).
 */
import type { Pool } from "pg";
import type { Logger } from "../logger";

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
];

/** Arbitrary constant identifying GoMeet's migration lock (pg_advisory_lock takes a bigint). */
const MIGRATION_LOCK_ID = 4_714_200_401;

/** Applies pending migrations; returns the ids applied by this call. */
export async function migrate(pool: Pool, logger: Logger, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_ID]);
    try {
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      const done = new Set((await client.query<{ id: number }>("SELECT id FROM schema_migrations")).rows.map((row) => row.id));
      for (const migration of migrations) {
        if (done.has(migration.id)) continue;
        await client.query("BEGIN");
        try {
          await client.query(migration.sql);
          await client.query("INSERT INTO schema_migrations (id, name) VALUES ($1, $2)", [migration.id, migration.name]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw error;
        }
        applied.push(migration.id);
        logger.info({ migration: migration.id, name: migration.name }, "migration applied");
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_ID]);
    }
  } finally {
    client.release();
  }
  return applied;
}
