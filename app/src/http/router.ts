/**
 * Matching a request to a route: path patterns with parameters, one handler per method; 404 for an
 * unknown path, 405 (with `Allow`) for a method the route does not take.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "../errors";

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void>;

export interface Route {
  /** The path pattern; its capture groups become the handler's params. */
  pattern: RegExp;
  /** The route as metrics and messages name it, e.g. `/rooms/:id`. */
  label: string;
  methods: Record<string, RouteHandler>;
}

export interface MatchedRoute {
  route: Route;
  params: string[];
}

/** The route whose pattern matches `path`; throws 404 `not_found` if none does. */
export function matchRoute(routes: readonly Route[], method: string | undefined, path: string): MatchedRoute {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match !== null) return { route, params: match.slice(1) };
  }
  throw new HttpError(404, "not_found", `No route for ${method} ${path}`);
}

/** The route's handler for the request's method; throws 405 `method_not_allowed` (and sets `Allow`) if there is none. */
export function handlerFor(matched: MatchedRoute, req: IncomingMessage, res: ServerResponse): RouteHandler {
  const handler = matched.route.methods[req.method ?? ""];
  if (handler !== undefined) return handler;
  res.setHeader("allow", Object.keys(matched.route.methods).join(", "));
  throw new HttpError(405, "method_not_allowed", `${req.method} is not allowed on ${matched.route.label}`);
}
