/** Rooms for the benchmark, created through the app's own API (POST /rooms). */
import { createRoom } from "../harness/app-client";
import { signUserToken, TEST_JWT_SECRET } from "../harness/tokens";

const CREATE_CONCURRENCY = 20;

/** Creates `count` rooms named `<prefix>-<n>` on `baseUrl`; returns their ids in order. */
export async function createRooms(baseUrl: string, count: number, prefix: string): Promise<string[]> {
  const owner = await signUserToken(TEST_JWT_SECRET, "bench-owner");
  const ids: string[] = new Array<string>(count);
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      ids[n] = await createRoom(baseUrl, owner, `${prefix}-${n}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, count) }, runner));
  return ids;
}
