/**
 * Room routes; every one needs `Authorization: Bearer <jwt>`, and every one on a room needs its membership
 * (room-members.ts; anyone else gets 403 `room_access_denied`, whether or not the room exists).
 *
 *   POST /rooms {name}              201 {id, name, createdAt, role: "owner"}       (per-user rate limit)
 *   GET  /rooms/:id                 {id, name, createdAt, role}                    (members)
 *   GET  /rooms/:id/participants    {room, participants: [{connectionId, user, instance, joinedAt}]}   (members)
 *   POST /rooms/:id/token           {token, url, deployment, datacenter, expiresAt}; optional body {canPublish, canSubscribe,
 *                                   canPublishData}; grants within the caller's role (livekit/grants.ts)   (per-user rate limit)
 * Membership management: member-routes.ts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { bearerToken, type Authenticator, type User } from "../auth";
import { HttpError, errorMessage } from "../errors";
import { isValidRoomId } from "../ids";
import type { RoomMembers, RoomRole } from "../db/room-members";
import type { RoomRepository } from "../db/rooms";
import { grantsFor } from "../livekit/grants";
import type { LivekitTokens } from "../livekit/tokens";
import type { PresenceService } from "../realtime/presence";
import type { RateLimits } from "./rate-limits";
import type { RoomMissLimit } from "./room-miss-limit";
import { readJsonBody, sendJson } from "./respond";
import type { Route } from "./router";

export interface RoomRouteDependencies {
  maxBodyBytes: number;
  authenticate: Authenticator;
  rooms: RoomRepository;
  members: RoomMembers;
  presence: PresenceService;
  tokens: LivekitTokens;
  rateLimits: RateLimits;
  roomMisses: RoomMissLimit;
}

/**
 * The user's role in the room, or 403 `room_access_denied` (not a member, or no such room: one answer for both).
 * Refused lookups are bounded per user (see room-miss-limit.ts): each costs a replica read and the primary's
 * confirmation. A user over the bound gets 429 for any lookup whose membership this instance has not cached, whether
 * or not the room exists, so the bound reveals no more about rooms than the 403 does; cached members are never limited.
 */
async function requireMember(deps: RoomRouteDependencies, user: User, roomId: string, res: ServerResponse): Promise<RoomRole> {
  if (!deps.members.isCached(roomId, user.id)) deps.roomMisses.check(user.id, res);
  try {
    return await deps.members.require(roomId, user.id);
  } catch (error) {
    if (error instanceof HttpError && error.code === "room_access_denied") deps.roomMisses.recordMiss(user.id);
    throw error;
  }
}

const createRoomBody = z.object(
  {
    name: z
      .string("name must be a string")
      .trim()
      .min(1, "name must not be empty")
      .max(100, "name must be at most 100 characters")
      .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), "name must not contain control characters"),
  },
  "the body must be a JSON object {name}",
);

/** The grants asked for; what is left out defaults to what the caller's role allows (livekit/grants.ts). */
const tokenBody = z
  .object(
    {
      canPublish: z.boolean("canPublish must be a boolean").optional(),
      canSubscribe: z.boolean("canSubscribe must be a boolean").optional(),
      canPublishData: z.boolean("canPublishData must be a boolean").optional(),
    },
    "the body must be a JSON object",
  )
  .optional()
  .transform((grants) => grants ?? {});

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const detail = result.error.issues.map((issue) => issue.message).join("; ");
    throw new HttpError(400, "invalid_body", detail);
  }
  return result.data;
}

export function roomIdParam(value: string | undefined): string {
  const id = decodeURIComponentSafe(value ?? "");
  if (!isValidRoomId(id)) throw new HttpError(400, "invalid_room_id", "Room ids are 1-64 characters of A-Z a-z 0-9 _ -");
  return id;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function roomRoutes(deps: RoomRouteDependencies): Route[] {
  const authenticated = async (req: IncomingMessage): Promise<User> => deps.authenticate(bearerToken(req.headers.authorization));
  return [
    {
      pattern: /^\/rooms$/,
      label: "/rooms",
      methods: {
        POST: async (req, res) => {
          const user = await authenticated(req);
          const { name } = parseBody(createRoomBody, await readJsonBody(req, deps.maxBodyBytes));
          await deps.rateLimits.take(user.id, "room_create", res);
          const room = await deps.rooms.create(name, user.id);
          deps.members.rememberOwner(room.id, user.id);
          sendJson(res, 201, { ...room, role: "owner" });
        },
      },
    },
    {
      pattern: /^\/rooms\/([^/]+)$/,
      label: "/rooms/:id",
      methods: {
        GET: async (req, res, [id]) => {
          const user = await authenticated(req);
          const roomId = roomIdParam(id);
          const role = await requireMember(deps, user, roomId, res);
          sendJson(res, 200, { ...(await deps.rooms.get(roomId)), role });
        },
      },
    },
    {
      pattern: /^\/rooms\/([^/]+)\/participants$/,
      label: "/rooms/:id/participants",
      methods: {
        GET: async (req, res, [id]) => {
          const user = await authenticated(req);
          const room = { id: roomIdParam(id) };
          await requireMember(deps, user, room.id, res);
          const participants = await deps.presence.participants(room.id).catch((error: unknown) => {
            throw new HttpError(503, "redis_unavailable", `Presence is unavailable: ${errorMessage(error)}`);
          });
          sendJson(res, 200, { room: room.id, participants });
        },
      },
    },
    {
      pattern: /^\/rooms\/([^/]+)\/token$/,
      label: "/rooms/:id/token",
      methods: {
        POST: async (req, res, [id]) => {
          const user = await authenticated(req);
          const roomId = roomIdParam(id);
          const requested = parseBody(tokenBody, await readJsonBody(req, deps.maxBodyBytes));
          // Counted before the membership check: requests for rooms one is not in count too.
          await deps.rateLimits.take(user.id, "token_issue", res);
          const grants = grantsFor(roomId, await deps.members.require(roomId, user.id), requested);
          sendJson(res, 200, await deps.tokens.issue(roomId, user, grants));
        },
      },
    },
  ];
}
