/**
 * Schema migrations against a real PostgreSQL, each case on a database of its own: several migrations applied in
 * order, once; a later one applied alone; and the rollback path: a migration that fails leaves nothing behind (not
 * the migrations before it in the same run, not the bookkeeping), none after it is tried, the error names it, the
 * pool's connection is usable afterwards, and the run succeeds once the migration is fixed.
 */
import { Pool } from "pg";
import { migrate, type Migration } from "../../app/src/db/migrations";
import { createLogger } from "../../app/src/logger";
import { sqlAt as sql, startPostgres, type PgNode } from "../../harness/postgres";
import { stopAll } from "../../harness/process";

const logger = createLogger("silent", "migrations-test");
const table = (id: number, name: string): Migration => ({ id, name, sql: `CREATE TABLE ${name} (id integer PRIMARY KEY)` });
const broken: Migration = { id: 3, name: "broken", sql: "ALTER TABLE no_such_table ADD COLUMN x integer" };

let pg: PgNode;
let databases = 0;
const pools: Pool[] = [];

beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await stopAll();
});

/** A pool of one connection (every statement reuses it) on a fresh database. */
async function freshDatabase(): Promise<{ pool: Pool; url: string }> {
  const name = `migrations_${++databases}`;
  await sql(pg.url, `CREATE DATABASE ${name}`);
  const url = pg.url.replace(/\/[^/]+$/, `/${name}`);
  const pool = new Pool({ connectionString: url, max: 1 });
  pools.push(pool);
  return { pool, url };
}

const tables = async (url: string): Promise<string[]> =>
  (await sql<{ t: string }>(url, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).map((r) => r.t);
const recorded = async (url: string): Promise<Array<{ id: number; name: string }>> =>
  sql<{ id: number; name: string }>(url, "SELECT id, name FROM schema_migrations ORDER BY id");

test("several migrations are applied in order, once", async () => {
  const { pool, url } = await freshDatabase();
  const migrations = [table(1, "first"), table(2, "second"), { id: 3, name: "third", sql: "ALTER TABLE second ADD COLUMN label text" }];
  expect(await migrate(pool, logger, migrations)).toEqual([1, 2, 3]);
  expect(await migrate(pool, logger, migrations)).toEqual([]);
  expect(await recorded(url)).toEqual([
    { id: 1, name: "first" },
    { id: 2, name: "second" },
    { id: 3, name: "third" },
  ]);
  expect(await tables(url)).toEqual(["first", "schema_migrations", "second"]);
});

test("a migration added later is applied alone", async () => {
  const { pool, url } = await freshDatabase();
  expect(await migrate(pool, logger, [table(1, "first")])).toEqual([1]);
  expect(await migrate(pool, logger, [table(1, "first"), table(2, "second")])).toEqual([2]);
  expect((await recorded(url)).map((r) => r.id)).toEqual([1, 2]);
});

test("a failing migration rolls the whole run back: nothing applied, nothing recorded, none after it tried", async () => {
  const { pool, url } = await freshDatabase();
  const after = table(4, "after_the_broken_one");
  await expect(migrate(pool, logger, [table(1, "first"), table(2, "second"), broken, after])).rejects.toThrow(
    'relation "no_such_table" does not exist',
  );
  expect(await tables(url)).toEqual([]); // not first, second, schema_migrations or after_the_broken_one
  // The pool's one connection is not left inside the aborted transaction.
  expect((await pool.query("SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]);
  // Fixed, the same run applies everything.
  const fixed = { ...broken, sql: "ALTER TABLE second ADD COLUMN x integer" };
  expect(await migrate(pool, logger, [table(1, "first"), table(2, "second"), fixed, after])).toEqual([1, 2, 3, 4]);
});

test("a failing migration after applied ones leaves those, and only those", async () => {
  const { pool, url } = await freshDatabase();
  await migrate(pool, logger, [table(1, "first")]);
  await expect(migrate(pool, logger, [table(1, "first"), table(2, "second"), broken])).rejects.toThrow(/no_such_table/);
  expect(await recorded(url)).toEqual([{ id: 1, name: "first" }]);
  expect(await tables(url)).toEqual(["first", "schema_migrations"]);
});
