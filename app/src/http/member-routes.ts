/**
 * A room's members (docs/service-contract.md, "Access"); every route needs `Authorization: Bearer <jwt>`.
 *
 *   GET    /rooms/:id/members           {room, members: [{userId, role, addedAt}]}     (members)
 *   PUT    /rooms/:id/members/:userId   {role: "member" | "viewer"} → {room, userId, role, addedAt}   (the owner)
 *   DELETE /rooms/:id/members/:userId   204                                              (the owner)
 *
 * `:userId` is percent-encoded (user ids are any 1-128 characters without control characters). Non-members get
 * 403 `room_access_denied`; members who are not the owner get 403 `insufficient_role` on PUT and DELETE.
 */
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { bearerToken, type Authenticator, type User } from "../auth";
import { HttpError } from "../errors";
import { isValidUserId, MAX_USER_ID_LENGTH } from "../ids";
import type { RoomMembers } from "../db/room-members";
import { parseBody, roomIdParam } from "./room-routes";
import { readJsonBody, sendJson } from "./respond";
import type { Route } from "./router";

export interface MemberRouteDependencies {
  maxBodyBytes: number;
  authenticate: Authenticator;
  members: RoomMembers;
}

const putMemberBody = z.object(
  { role: z.enum(["member", "viewer"], 'role must be "member" or "viewer" (a room has one owner, its creator)') },
  "the body must be a JSON object {role}",
);

function userIdParam(value: string | undefined): string {
  let id: string;
  try {
    id = decodeURIComponent(value ?? "");
  } catch {
    throw new HttpError(400, "invalid_user_id", "The user id in the path is not valid percent-encoded UTF-8");
  }
  if (!isValidUserId(id)) {
    throw new HttpError(
      400,
      "invalid_user_id",
      `User ids are 1-${MAX_USER_ID_LENGTH} characters without control characters or lone surrogates`,
    );
  }
  return id;
}

export function memberRoutes(deps: MemberRouteDependencies): Route[] {
  const authenticated = async (req: IncomingMessage): Promise<User> => deps.authenticate(bearerToken(req.headers.authorization));
  /** The room and the target user, once the caller is known to own the room. */
  const asOwner = async (req: IncomingMessage, id: string | undefined, userId: string | undefined) => {
    const user = await authenticated(req);
    const roomId = roomIdParam(id);
    const target = userIdParam(userId);
    const role = await deps.members.require(roomId, user.id);
    if (role !== "owner") throw new HttpError(403, "insufficient_role", `Only the owner of room ${roomId} manages its members`);
    return { roomId, target };
  };
  return [
    {
      pattern: /^\/rooms\/([^/]+)\/members$/,
      label: "/rooms/:id/members",
      methods: {
        GET: async (req, res, [id]) => {
          const user = await authenticated(req);
          const roomId = roomIdParam(id);
          await deps.members.require(roomId, user.id);
          sendJson(res, 200, { room: roomId, members: await deps.members.list(roomId) });
        },
      },
    },
    {
      pattern: /^\/rooms\/([^/]+)\/members\/([^/]+)$/,
      label: "/rooms/:id/members/:userId",
      methods: {
        PUT: async (req, res, [id, userId]) => {
          const { roomId, target } = await asOwner(req, id, userId);
          const { role } = parseBody(putMemberBody, await readJsonBody(req, deps.maxBodyBytes));
          sendJson(res, 200, { room: roomId, ...(await deps.members.put(roomId, target, role)) });
        },
        DELETE: async (req, res, [id, userId]) => {
          const { roomId, target } = await asOwner(req, id, userId);
          if (!(await deps.members.remove(roomId, target))) {
            throw new HttpError(404, "member_not_found", `${target} is not a member of room ${roomId}`);
          }
          res.writeHead(204).end();
        },
      },
    },
  ];
}
