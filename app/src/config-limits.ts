/**
 * The checks between limits that each variable's own range cannot express (config.ts runs them once
 * every variable parsed); each problem names both variables and why.
 */

export interface CrossLimits {
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  HISTORY_MAX_ROOM_BYTES: number;
  WS_MAX_FRAME_BYTES: number;
  WS_REPLAY_HIGH_WATER_BYTES: number;
  WS_MAX_BUFFERED_BYTES: number;
}

export function crossLimitProblems(e: CrossLimits): string[] {
  const problems: string[] = [];
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
