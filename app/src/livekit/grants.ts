/**
 * LiveKit grants from a member's role (docs/service-contract.md, "Access"):
 *
 * | role   | canSubscribe | canPublish | canPublishData | roomAdmin |
 * |--------|--------------|------------|----------------|-----------|
 * | owner  | yes          | yes        | yes            | yes       |
 * | member | yes          | yes        | yes            | no        |
 * | viewer | yes          | no         | no             | no        |
 *
 * A request may ask for less (`{"canPublish": false}`); a grant left out defaults to what the role allows; asking
 * for more than the role allows is refused with 403 `insufficient_role` naming the grant.
 */
import { HttpError } from "../errors";
import type { RoomRole } from "../db/room-members";

export interface TokenGrants {
  canPublish: boolean;
  canSubscribe: boolean;
  canPublishData: boolean;
  /** LiveKit's room administration (mute, remove participants): the owner only. */
  roomAdmin: boolean;
}

export type RequestedGrants = Partial<Pick<TokenGrants, "canPublish" | "canSubscribe" | "canPublishData">>;

const ALLOWED: Record<RoomRole, TokenGrants> = {
  owner: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: true },
  member: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false },
  viewer: { canPublish: false, canSubscribe: true, canPublishData: false, roomAdmin: false },
};

export function grantsFor(roomId: string, role: RoomRole, requested: RequestedGrants): TokenGrants {
  const allowed = ALLOWED[role];
  const grants: TokenGrants = { ...allowed };
  for (const name of ["canPublish", "canSubscribe", "canPublishData"] as const) {
    const asked = requested[name];
    if (asked === undefined) continue;
    if (asked && !allowed[name]) {
      throw new HttpError(403, "insufficient_role", `${name} is not granted to a ${role} of room ${roomId}`);
    }
    grants[name] = asked;
  }
  return grants;
}

/** The grants as a short stable string (part of the token cache key). */
export function grantsKey(grants: TokenGrants): string {
  return [grants.canPublish, grants.canSubscribe, grants.canPublishData, grants.roomAdmin].map((g) => (g ? 1 : 0)).join("");
}
