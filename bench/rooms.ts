/** Rooms for the benchmark and their members, through the app's own API (POST /rooms, PUT /rooms/:id/members/:userId). */
import { addMember, createRoom } from "../harness/app-client";
import { signUserToken, TEST_JWT_SECRET } from "../harness/tokens";

const CREATE_CONCURRENCY = 20;

/** Creates `count` rooms named `<prefix>-<n>` on `baseUrl`; returns their ids in order. */
export async function createRooms(baseUrl: string, count: number, prefix: string): Promise<string[]> {
  const owner = await ownerToken();
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

/** The rooms' owner, who creates them and adds their members. */
function ownerToken(): Promise<string> {
  return signUserToken(TEST_JWT_SECRET, "bench-owner");
}

/**
 * Adds `perRoom` members to each room (only members may join or get tokens): member j of room r is `userOf(r, j)`.
 * Before any clock starts; CREATE_CONCURRENCY requests at a time.
 */
export async function addRoomMembers(
  baseUrl: string,
  rooms: readonly string[],
  perRoom: number,
  userOf: (room: number, member: number) => string,
): Promise<void> {
  const owner = await ownerToken();
  const pairs = rooms.flatMap((room, r) => Array.from({ length: perRoom }, (_, j) => [room, userOf(r, j)] as const));
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < pairs.length) {
      const [room, userId] = pairs[next++] as readonly [string, string];
      await addMember(baseUrl, owner, room, userId);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, pairs.length) }, runner));
}
