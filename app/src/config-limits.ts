/**
 * The checks between variables that each variable's own range cannot express (config.ts runs them once
 * every variable parsed); each problem names both variables and why.
 */

export interface CrossLimits {
  PORT: number;
  METRICS_PORT: number;
  PRESENCE_TTL_SECONDS: number;
  HEARTBEAT_INTERVAL_MS: number;
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  HISTORY_MAX_ROOM_BYTES: number;
  WS_MAX_FRAME_BYTES: number;
  WS_REPLAY_HIGH_WATER_BYTES: number;
  WS_MAX_BUFFERED_BYTES: number;
}

export function crossLimitProblems(e: CrossLimits): string[] {
  const problems: string[] = [];
  if (e.METRICS_PORT === e.PORT && e.PORT !== 0) {
    problems.push(
      `METRICS_PORT must differ from PORT (both ${e.PORT}): /metrics and the detailed /readyz are served on their own port, which the load balancer does not expose`,
    );
  }
  if (e.PRESENCE_TTL_SECONDS * 1000 <= e.HEARTBEAT_INTERVAL_MS) {
    problems.push(
      `PRESENCE_TTL_SECONDS must be longer than HEARTBEAT_INTERVAL_MS (${e.PRESENCE_TTL_SECONDS} s vs ${e.HEARTBEAT_INTERVAL_MS} ms): members would expire between heartbeats`,
    );
  }
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT_MS must be at most HTTP_REQUEST_TIMEOUT_MS (${e.HTTP_HEADERS_TIMEOUT_MS} > ${e.HTTP_REQUEST_TIMEOUT_MS}): the headers are part of the request`,
    );
  }
  if (e.HISTORY_MAX_ROOM_BYTES < 2 * e.WS_MAX_FRAME_BYTES) {
    problems.push(
      `HISTORY_MAX_ROOM_BYTES must be at least twice WS_MAX_FRAME_BYTES (${e.HISTORY_MAX_ROOM_BYTES} < 2 × ${e.WS_MAX_FRAME_BYTES}): a room's history must hold more than its largest message`,
    );
  }
  if (e.WS_REPLAY_HIGH_WATER_BYTES > e.WS_MAX_BUFFERED_BYTES) {
    problems.push(
      `WS_REPLAY_HIGH_WATER_BYTES must be at most WS_MAX_BUFFERED_BYTES (${e.WS_REPLAY_HIGH_WATER_BYTES} > ${e.WS_MAX_BUFFERED_BYTES}): a replay would close its own client as a slow consumer`,
    );
  }
  return problems;
}
