/**
 * Direct SQL for the drills' set-up and checks: rooms no instance has read yet (inserted on the
 * primary, waited for on the replica), and the room count.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { waitFor } from "../../harness/process";

async function withClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Inserts `count` rooms on the primary and waits until the replica has them; returns their ids.
 * Reading one of them is a database read on whichever instance answers (none has it cached).
 */
export async function seedUnreadRooms(primaryUrl: string, replicaUrl: string, count: number, owner: string): Promise<string[]> {
  const ids = Array.from({ length: count }, () => `seed-${randomBytes(9).toString("base64url")}`);
  // Owned by `owner` (the drill's HTTP user), as POST /rooms would: only members may read a room. One statement.
  await withClient(primaryUrl, (client) =>
    client.query(
      `WITH seeded AS (INSERT INTO rooms (id, name, created_by) SELECT id, 'seeded by the drills', $2 FROM unnest($1::text[]) AS id RETURNING id)
       INSERT INTO room_members (room_id, user_id, role) SELECT id, $2, 'owner' FROM seeded`,
      [ids, owner],
    ),
  );
  await waitFor(
    () =>
      withClient(
        replicaUrl,
        async (client) =>
          Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM rooms WHERE id = ANY($1)", [ids])).rows[0]?.n) === count,
      ),
    { timeoutMs: 10_000, intervalMs: 100, what: `the replica to have the ${count} seeded rooms` },
  );
  return ids;
}

export async function roomCount(primaryUrl: string): Promise<number> {
  return withClient(primaryUrl, async (client) =>
    Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM rooms")).rows[0]?.n),
  );
}

/** Of `ids`, those with no row in `rooms` at `url`. */
export async function missingRooms(url: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const found = await withClient(url, async (client) =>
    (await client.query<{ id: string }>("SELECT id FROM rooms WHERE id = ANY($1)", [ids])).rows.map((row) => row.id),
  );
  const present = new Set(found);
  return ids.filter((id) => !present.has(id));
}
