/**
 * Starting the parts in dependency order (undoing what started, the failed part included, when a
 * part fails), and the graceful shutdown sequence.
 */
import type http from "node:http";
import { errorMessage } from "../errors";
import type { Logger } from "../logger";
import { CLOSE_CODES } from "../realtime/connection";
import type { Heartbeat } from "../realtime/heartbeat";
import type { Hub } from "../realtime/hub";
import type { PresenceService } from "../realtime/presence";
import type { Backends } from "./backends";
import type { DrainState } from "./readiness-reporter";

export interface StartStep {
  start(): Promise<unknown>;
  /**
   * Undoes `start` when it or a later step fails; called after a failed `start` too, so it must undo
   * whatever part of the start got done (e.g. one of two connections). Steps without one leave
   * nothing running.
   */
  stop?(): Promise<void>;
}

/**
 * Runs the steps one after the other; when one throws, stops it (it may have started part-way) and
 * the started ones in reverse order, then rethrows its error. When stopping fails too, every stop
 * is still tried, and the error thrown is an AggregateError of the start error and the stop errors.
 */
export async function startInOrder(steps: readonly StartStep[]): Promise<void> {
  const started: StartStep[] = [];
  try {
    for (const step of steps) {
      started.push(step);
      await step.start();
    }
  } catch (error) {
    const stopErrors: unknown[] = [];
    for (const step of started.reverse()) {
      try {
        await step.stop?.();
      } catch (stopError) {
        stopErrors.push(stopError);
      }
    }
    if (stopErrors.length === 0) throw error;
    throw new AggregateError(
      [error, ...stopErrors],
      `${errorMessage(error)} (stopping what had started failed too: ${stopErrors.map(errorMessage).join("; ")})`,
    );
  }
}

/** How long closing clients get to answer the close frame before their sockets are dropped. */
const CLOSE_GRACE_MS = 1000;

export interface ShutdownParts {
  server: http.Server;
  /** The internal port (/metrics, detailed /readyz): closed last, so the drain stays observable. */
  metricsServer: http.Server;
  hub: Hub;
  presence: PresenceService;
  heartbeat: Heartbeat;
  backends: Backends;
  drain: DrainState;
  logger: Logger;
}

/**
 * Graceful shutdown: /readyz answers 503 for `drainSeconds` (the load balancer takes the instance
 * out), then the server stops accepting, every socket is closed with 1012 (clients reconnect
 * elsewhere) and its presence removed, the instance leaves the registry, and the pools close.
 */
export async function shutDown(parts: ShutdownParts, drainSeconds: number): Promise<void> {
  const { server, metricsServer, hub, presence, heartbeat, backends, drain, logger } = parts;
  drain.start();
  logger.info({ drainSeconds }, "draining: /readyz answers 503");
  await new Promise((resolve) => setTimeout(resolve, drainSeconds * 1000));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await hub.closeAll(CLOSE_CODES.serviceRestart, "service restart", CLOSE_GRACE_MS);
  await heartbeat.stop();
  await presence.deregister().catch((error: unknown) => logger.warn({ err: String(error) }, "could not deregister the instance"));
  await backends.livekitHealth.stop();
  server.closeAllConnections();
  await closed;
  await Promise.allSettled([backends.db.stop(), backends.valkey.stop()]);
  const metricsClosed = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
  metricsServer.closeAllConnections();
  await metricsClosed;
  logger.info("stopped");
}
