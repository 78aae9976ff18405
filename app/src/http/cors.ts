/**
 * Browser clients on other origins (CORS_ALLOWED_ORIGINS, exact origins only; no wildcard, no credentials:
 * the API takes a bearer token, never a cookie).
 *
 * - A preflight (OPTIONS with Origin and Access-Control-Request-Method) from an allowed origin: 204 with the
 *   route's methods, `Authorization` and `Content-Type`, and a max-age. From any other origin: 403
 *   `origin_not_allowed` and no CORS headers, so the browser refuses the real request.
 * - Any other request from an allowed origin gets `Access-Control-Allow-Origin: <origin>` (and
 *   `Retry-After` exposed, for 429s); from another origin, no CORS headers (browsers then hide the response).
 * - WebSocket upgrades are checked by {@link OriginPolicy.allowsUpgrade}: a browser always sends Origin, a
 *   native client usually none, which is accepted.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "../errors";

/** How long a browser may cache a preflight answer (seconds). */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;
/** Request headers a browser client may send. */
export const ALLOWED_HEADERS = ["Authorization", "Content-Type"];
/** Response headers a browser client may read beyond the CORS-safelisted ones. */
export const EXPOSED_HEADERS = ["Retry-After"];

export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.allowed = new Set(origins);
  }

  /** Whether `origin` (the request's Origin header) is one of the configured origins. */
  allows(origin: string | undefined): origin is string {
    return origin !== undefined && this.allowed.has(origin);
  }

  /** A WebSocket upgrade: no Origin (a native client) or an allowed one. Throws 403 `origin_not_allowed` otherwise. */
  checkUpgrade(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin === undefined || this.allows(origin)) return;
    throw originNotAllowed(origin);
  }
}

function originNotAllowed(origin: string): HttpError {
  return new HttpError(403, "origin_not_allowed", `Origin ${JSON.stringify(origin)} is not allowed (CORS_ALLOWED_ORIGINS)`);
}

/** Whether the request is a CORS preflight. */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === "OPTIONS" && req.headers.origin !== undefined && req.headers["access-control-request-method"] !== undefined;
}

/** Answers a preflight for a route that takes `methods`: 204 with CORS headers, or 403 without. */
export function answerPreflight(policy: OriginPolicy, req: IncomingMessage, res: ServerResponse, methods: readonly string[]): void {
  const origin = req.headers.origin;
  res.setHeader("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  if (!policy.allows(origin)) throw originNotAllowed(origin ?? "");
  res.writeHead(204, {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": [...methods, "OPTIONS"].join(", "),
    "access-control-allow-headers": ALLOWED_HEADERS.join(", "),
    "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
  });
  res.end();
}

/** Adds the CORS headers of an actual (non-preflight) request, before anything is written. */
export function addCorsHeaders(policy: OriginPolicy, req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  res.setHeader("vary", "Origin");
  if (!policy.allows(origin)) return;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("access-control-expose-headers", EXPOSED_HEADERS.join(", "));
}
