/**
 * Room routes; every one needs `Authorization: Bearer <jwt>`.
 *
 *   POST /rooms {name}              201 {id, name, createdAt}                      (per-user rate limit)
 *   GET  /rooms/:id                 {id, name, createdAt}
 *   GET  /rooms/:id/participants    {room, participants: [{connectionId, user, instance, joinedAt}]}
 *   POST /rooms/:id/token           {token, url, datacenter, expiresAt}; optional body {canPublish, canSubscribe, canPublishData}
 *                                                                                  (per-user rate limit)
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { bearerToken, type Authenticator, type User } from "../auth";
import { HttpError, errorMessage } from "../errors";
import { isValidRoomId } from "../ids";
import type { Room, RoomRepository } from "../db/rooms";
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
  presence: PresenceService;
  tokens: LivekitTokens;
  rateLimits: RateLimits;
  roomMisses: RoomMissLimit;
}

/** A room read for `user`: lookups of unknown rooms are bounded per user (see room-miss-limit.ts). */
async function lookupRoom(deps: RoomRouteDependencies, user: User, id: string, res: ServerResponse): Promise<Room> {
  if (!deps.rooms.isKnown(id)) deps.roomMisses.check(user.id, res);
  try {
    return await deps.rooms.get(id);
  } catch (error) {
    if (error instanceof HttpError && error.code === "room_not_found") deps.roomMisses.recordMiss(user.id);
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

const tokenBody = z
  .object(
    {
      canPublish: z.boolean("canPublish must be a boolean").default(true),
      canSubscribe: z.boolean("canSubscribe must be a boolean").default(true),
      canPublishData: z.boolean("canPublishData must be a boolean").default(true),
    },
    "the body must be a JSON object",
  )
  .optional()
  .transform((grants) => grants ?? { canPublish: true, canSubscribe: true, canPublishData: true });

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const detail = result.error.issues.map((issue) => issue.message).join("; ");
    throw new HttpError(400, "invalid_body", detail);
  }
  return result.data;
}

function roomIdParam(value: string | undefined): string {
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
          sendJson(res, 201, await deps.rooms.create(name, user.id));
        },
      },
    },
    {
      pattern: /^\/rooms\/([^/]+)$/,
      label: "/rooms/:id",
      methods: {
        GET: async (req, res, [id]) => {
          const user = await authenticated(req);
          sendJson(res, 200, await lookupRoom(deps, user, roomIdParam(id), res));
        },
      },
    },
    {
      pattern: /^\/rooms\/([^/]+)\/participants$/,
      label: "/rooms/:id/participants",
      methods: {
        GET: async (req, res, [id]) => {
          const user = await authenticated(req);
          const room = await lookupRoom(deps, user, roomIdParam(id), res);
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
          const grants = parseBody(tokenBody, await readJsonBody(req, deps.maxBodyBytes));
          await deps.rateLimits.take(user.id, "token_issue", res);
          const room = await deps.rooms.get(roomId);
          sendJson(res, 200, await deps.tokens.issue(room.id, user, grants));
        },
      },
    },
  ];
}
