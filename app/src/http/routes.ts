/**
 * The HTTP request handler: CORS, then the route, then the error body and the request metrics. Every
 * response is JSON (except /metrics and a preflight's empty 204); every error is
 * `{"error": {"code", "message"}}`. Routes: operations-routes.ts (no token), room-routes.ts and member-routes.ts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, errorMessage } from "../errors";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { memberRoutes } from "./member-routes";
import { addCorsHeaders, answerPreflight, isPreflight, type OriginPolicy } from "./cors";
import { internalOperationsRoutes, publicOperationsRoutes, type OperationsDependencies } from "./operations-routes";
import { roomRoutes, type RoomRouteDependencies } from "./room-routes";
import { sendJson } from "./respond";
import { handlerFor, matchRoute, type Route } from "./router";

export interface HttpDependencies extends OperationsDependencies, RoomRouteDependencies {
  logger: Logger;
  metrics: AppMetrics;
  origins: OriginPolicy;
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The public port's handler: liveness, the minimal readiness, the room and member routes, with CORS. */
export function createRequestHandler(deps: HttpDependencies): RequestHandler {
  return serve([...publicOperationsRoutes(deps), ...roomRoutes(deps), ...memberRoutes(deps)], deps, deps.origins);
}

/** The internal port's handler (METRICS_PORT): liveness, the detailed readiness and /metrics; no CORS (no browser calls it). */
export function createInternalRequestHandler(deps: OperationsDependencies & { logger: Logger; metrics: AppMetrics }): RequestHandler {
  return serve(internalOperationsRoutes(deps), deps, undefined);
}

function serve(routes: readonly Route[], deps: { logger: Logger; metrics: AppMetrics }, origins: OriginPolicy | undefined): RequestHandler {
  const handle = async (req: IncomingMessage, res: ServerResponse, path: string, setLabel: (label: string) => void): Promise<void> => {
    const preflight = origins !== undefined && isPreflight(req);
    // Before routing, so that a 404 or 405 from an allowed origin is readable by the page too.
    if (origins !== undefined && !preflight) addCorsHeaders(origins, req, res);
    const matched = matchRoute(routes, req.method, path);
    setLabel(matched.route.label);
    if (preflight) {
      req.resume();
      answerPreflight(origins, req, res, Object.keys(matched.route.methods));
      return;
    }
    await handlerFor(matched, req, res)(req, res, matched.params);
  };

  return (req, res) => {
    const started = performance.now();
    const path = (req.url ?? "/").split("?")[0] as string;
    let label = "unmatched";
    handle(req, res, path, (matched) => (label = matched))
      .catch((error: unknown) => sendError(res, error, label, deps.logger))
      .catch((error: unknown) => deps.logger.error({ err: errorMessage(error) }, "could not send the error response"))
      .finally(() => {
        deps.metrics.httpRequests.inc({ route: label, status: String(res.statusCode) });
        deps.metrics.httpDuration.observe({ route: label }, (performance.now() - started) / 1000);
      });
  };
}

/** An HttpError as its status and body; anything else is logged and answered 500 without detail. */
function sendError(res: ServerResponse, error: unknown, label: string, logger: Logger): void {
  if (error instanceof HttpError) {
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    sendJson(res, error.status, error.toBody());
    return;
  }
  logger.error({ err: errorMessage(error), route: label }, "request failed");
  sendJson(res, 500, { error: { code: "internal_error", message: "Internal error" } });
}
