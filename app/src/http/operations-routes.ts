/**
 * Routes for the platform, not for users: liveness, readiness and metrics. No token.
 *
 *   GET  /healthz                   liveness: the process alone
 *   GET  /readyz                    readiness: dependencies (see readiness.ts)
 *   GET  /metrics                   Prometheus
 */
import type { AppMetrics } from "../metrics";
import { readinessHttpStatus, type Readiness } from "./readiness";
import { sendJson } from "./respond";
import type { Route } from "./router";

export interface OperationsDependencies {
  instanceId: string;
  metrics: AppMetrics;
  readiness(): Readiness;
}

export function operationsRoutes(deps: OperationsDependencies): Route[] {
  return [
    {
      pattern: /^\/healthz$/,
      label: "/healthz",
      methods: { GET: async (_req, res) => sendJson(res, 200, { status: "ok", instance: deps.instanceId }) },
    },
    {
      pattern: /^\/readyz$/,
      label: "/readyz",
      methods: {
        GET: async (_req, res) => {
          const readiness = deps.readiness();
          sendJson(res, readinessHttpStatus(readiness), readiness);
        },
      },
    },
    {
      pattern: /^\/metrics$/,
      label: "/metrics",
      methods: {
        GET: async (_req, res) => {
          const text = await deps.metrics.registry.metrics();
          res.writeHead(200, { "content-type": deps.metrics.registry.contentType });
          res.end(text);
        },
      },
    },
  ];
}
