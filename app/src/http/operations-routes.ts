/**
 * Routes for the platform, not for users: liveness, readiness and metrics. No token.
 *
 * Public port (through the load balancer):
 *   GET  /healthz                   liveness: the process alone
 *   GET  /readyz                    readiness as the load balancer needs it: {status, draining} and the status code
 * Internal port (METRICS_PORT; not behind the load balancer, reachable only from the monitoring namespace):
 *   GET  /healthz                   the same liveness
 *   GET  /readyz                    readiness with every dependency (internal hosts, latencies, connection errors)
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

function healthzRoute(deps: OperationsDependencies): Route {
  return {
    pattern: /^\/healthz$/,
    label: "/healthz",
    methods: { GET: async (_req, res) => sendJson(res, 200, { status: "ok", instance: deps.instanceId }) },
  };
}

/** GET /readyz: the readiness's status code, with the body `show` makes of it. */
function readyzRoute(deps: OperationsDependencies, show: (readiness: Readiness) => unknown): Route {
  return {
    pattern: /^\/readyz$/,
    label: "/readyz",
    methods: {
      GET: async (_req, res) => {
        const readiness = deps.readiness();
        sendJson(res, readinessHttpStatus(readiness), show(readiness));
      },
    },
  };
}

/** The public port's: liveness, and readiness without any detail (no host names, no errors). */
export function publicOperationsRoutes(deps: OperationsDependencies): Route[] {
  return [healthzRoute(deps), readyzRoute(deps, (readiness) => ({ status: readiness.status, draining: readiness.draining }))];
}

/** The internal port's: liveness, the detailed readiness and the metrics. */
export function internalOperationsRoutes(deps: OperationsDependencies): Route[] {
  return [
    healthzRoute(deps),
    readyzRoute(deps, (readiness) => readiness),
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
