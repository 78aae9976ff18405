/**
 * HTTP routes. Every response is JSON (except /metrics); every error is `{"error": {"code", "message"}}`.
 *
 *   GET  /healthz                   liveness: the process alone
 *   GET  /readyz                    readiness: dependencies (see readiness.ts)
 *   GET  /metrics                   Prometheus
 *   POST /rooms {name}              201 {id, name, createdAt}
 *   GET  /rooms/:id                 {id, name, createdAt}
 *   GET  /rooms/:id/participants    {room, participants: [{connectionId, user, instance, joinedAt}]}
 *   POST /rooms/:id/token           {token, url, datacenter, expiresAt}; optional body {canPublish, canSubscribe, canPublishData}
 * Room routes need `Authorization: Bearer <jwt>`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { bearerToken, type Authenticator, type User } from "../auth";
import { HttpError, errorMessage } from "../errors";
import { isValidRoomId } from "../ids";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import type { RoomRepository } from "../db/rooms";
import type { LivekitTokens } from "../livekit/tokens";
import type { PresenceService } from "../realtime/presence";
import { readJsonBody, sendJson } from "./respond";
import { readinessHttpStatus, type Readiness } from "./readiness";

export interface HttpDependencies {
  instanceId: string;
  maxBodyBytes: number;
  authenticate: Authenticator;
  rooms: RoomRepository;
  presence: PresenceService;
  tokens: LivekitTokens;
  metrics: AppMetrics;
  logger: Logger;
  readiness(): Readiness;
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

interface Route {
  label: string;
  methods: Record<string, (req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void>>;
}

export function createRequestHandler(deps: HttpDependencies): (req: IncomingMessage, res: ServerResponse) => void {
  const authenticated = async (req: IncomingMessage): Promise<User> => deps.authenticate(bearerToken(req.headers.authorization));
  const roomIdParam = (value: string | undefined): string => {
    const id = decodeURIComponentSafe(value ?? "");
    if (!isValidRoomId(id)) throw new HttpError(400, "invalid_room_id", "Room ids are 1-64 characters of A-Z a-z 0-9 _ -");
    return id;
  };

  const routes: Array<[RegExp, Route]> = [
    [/^\/healthz$/, { label: "/healthz", methods: { GET: async (_req, res) => sendJson(res, 200, { status: "ok", instance: deps.instanceId }) } }],
    [
      /^\/readyz$/,
      {
        label: "/readyz",
        methods: {
          GET: async (_req, res) => {
            const readiness = deps.readiness();
            sendJson(res, readinessHttpStatus(readiness), readiness);
          },
        },
      },
    ],
    [
      /^\/metrics$/,
      {
        label: "/metrics",
        methods: {
          GET: async (_req, res) => {
            const text = await deps.metrics.registry.metrics();
            res.writeHead(200, { "content-type": deps.metrics.registry.contentType });
            res.end(text);
          },
        },
      },
    ],
    [
      /^\/rooms$/,
      {
        label: "/rooms",
        methods: {
          POST: async (req, res) => {
            const user = await authenticated(req);
            const { name } = parseBody(createRoomBody, await readJsonBody(req, deps.maxBodyBytes));
            sendJson(res, 201, await deps.rooms.create(name, user.id));
          },
        },
      },
    ],
    [
      /^\/rooms\/([^/]+)$/,
      {
        label: "/rooms/:id",
        methods: {
          GET: async (req, res, [id]) => {
            await authenticated(req);
            sendJson(res, 200, await deps.rooms.get(roomIdParam(id)));
          },
        },
      },
    ],
    [
      /^\/rooms\/([^/]+)\/participants$/,
      {
        label: "/rooms/:id/participants",
        methods: {
          GET: async (req, res, [id]) => {
            await authenticated(req);
            const room = await deps.rooms.get(roomIdParam(id));
            const participants = await deps.presence.participants(room.id).catch((error: unknown) => {
              throw new HttpError(503, "redis_unavailable", `Presence is unavailable: ${errorMessage(error)}`);
            });
            sendJson(res, 200, { room: room.id, participants });
          },
        },
      },
    ],
    [
      /^\/rooms\/([^/]+)\/token$/,
      {
        label: "/rooms/:id/token",
        methods: {
          POST: async (req, res, [id]) => {
            const user = await authenticated(req);
            const roomId = roomIdParam(id);
            const grants = parseBody(tokenBody, await readJsonBody(req, deps.maxBodyBytes));
            const room = await deps.rooms.get(roomId);
            sendJson(res, 200, await deps.tokens.issue(room.id, user, grants));
          },
        },
      },
    ],
  ];

  return (req, res) => {
    const started = performance.now();
    const path = (req.url ?? "/").split("?")[0] as string;
    let label = "unmatched";
    const run = async (): Promise<void> => {
      for (const [pattern, route] of routes) {
        const match = pattern.exec(path);
        if (match === null) continue;
        label = route.label;
        const handler = route.methods[req.method ?? ""];
        if (handler === undefined) {
          res.setHeader("allow", Object.keys(route.methods).join(", "));
          throw new HttpError(405, "method_not_allowed", `${req.method} is not allowed on ${route.label}`);
        }
        return handler(req, res, match.slice(1));
      }
      throw new HttpError(404, "not_found", `No route for ${req.method} ${path}`);
    };
    run()
      .catch((error: unknown) => {
        if (error instanceof HttpError) {
          sendJson(res, error.status, error.toBody());
          return;
        }
        deps.logger.error({ err: errorMessage(error), route: label }, "request failed");
        sendJson(res, 500, { error: { code: "internal_error", message: "Internal error" } });
      })
      .catch((error: unknown) => deps.logger.error({ err: errorMessage(error) }, "could not send the error response"))
      .finally(() => {
        deps.metrics.httpRequests.inc({ route: label, status: String(res.statusCode) });
        deps.metrics.httpDuration.observe({ route: label }, (performance.now() - started) / 1000);
      });
  };
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
