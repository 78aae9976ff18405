/**
 * The confirm step's check through the global entry: /readyz answers 200 (an instance behind the GLB is ready, its
 * database writable: in a standby region /readyz says so only after promotion, app/src/db/region-role.ts) and, with a
 * user token (GOMEET_CONFIRM_TOKEN), a synthetic write: POST /rooms answers 201.
 */
import type { EntryProbe } from "./digitalocean-driver";

export function httpEntryProbe(options: { token?: string; fetch?: typeof fetch } = {}): EntryProbe {
  const fetcher = options.fetch ?? globalThis.fetch;
  return async (entryUrl, signal) => {
    const ready = await fetcher(`${entryUrl}/readyz`, { signal });
    await ready.body?.cancel();
    if (!ready.ok) throw new Error(`confirm: GET ${entryUrl}/readyz answered ${ready.status}`);
    if (options.token === undefined) return;
    const write = await fetcher(`${entryUrl}/rooms`, {
      method: "POST",
      signal,
      headers: { authorization: `Bearer ${options.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: `failover-confirm-${new Date().toISOString()}` }),
    });
    const text = await write.text();
    if (write.status !== 201)
      throw new Error(`confirm: the synthetic write POST ${entryUrl}/rooms answered ${write.status} ${text.slice(0, 200)}`);
  };
}
