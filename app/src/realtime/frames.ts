/**
 * The WebSocket protocol: client frame validation, server frame serialisation, and the few byte
 * reads the fan-out needs from a published frame (its kind, seq and timestamp) without parsing it.
 *
 * Server frames (JSON, one per WebSocket text message):
 *   welcome  {type, room, connectionId, instance, seq, recovered[, historyLost: true]}
 *   message  {type, room, seq, ts, from: {id, name}, data}      (assembled in Valkey: realtime/lua/append-messages.lua)
 *   presence {type, event: "join" | "leave", user: {id, name}, connectionId}   (built in Valkey: realtime/lua/lib/presence.lua)
 *   error    {type, code, message}
 * Client frame: {type: "message", data}.
 */
import WebSocket from "ws";
import { z } from "zod";
import { jsonShapeProblem, type JsonShapeLimits } from "./json-shape";

/**
 * The client frame's schema. `data` is any JSON value within `limits` (depth and count; its size is
 * bounded by WS_MAX_FRAME_BYTES): a deeper one would make JSON.stringify throw when it is published.
 */
export function clientFrameSchema(limits: JsonShapeLimits) {
  return z.object({
    type: z.literal("message", 'type must be "message"'),
    data: z.unknown().superRefine((value, ctx) => {
      if (value === undefined) {
        ctx.addIssue({ code: "custom", message: "data is required (any JSON value)" });
        return;
      }
      const problem = jsonShapeProblem(value, limits);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    }),
  });
}

export type ErrorCode = "invalid_frame" | "rate_limited" | "unavailable" | "internal_error" | "quota_exceeded" | "read_only";

/**
 * `historyLost`: the resume asked for messages this room's history never held here (a `since` from before the current
 * realtime epoch, or beyond the room's seq): they went with a lost region's (or Valkey's) state and will not come back.
 */
export function welcomeFrame(
  room: string,
  connectionId: string,
  instance: string,
  seq: number,
  recovered: boolean,
  historyLost = false,
): string {
  return JSON.stringify({ type: "welcome", room, connectionId, instance, seq, recovered, ...(historyLost ? { historyLost: true } : {}) });
}

export function errorFrame(code: ErrorCode, message: string): string {
  return JSON.stringify({ type: "error", code, message });
}

/** `{"type":"message","room":"<id>","seq":` — the script appends seq, ts and the tail. Room ids need no escaping. */
export function messageFramePrefix(roomId: string): string {
  return `{"type":"message","room":"${roomId}","seq":`;
}

/** `"from":{…},"data":…}` — serialised once per message, on the instance that accepted it. */
export function messageFrameTail(fromJson: string, data: unknown): string {
  return `"from":${fromJson},"data":${JSON.stringify(data)}}`;
}

export function userJson(user: { id: string; name: string }): string {
  return JSON.stringify({ id: user.id, name: user.name });
}

/** Separates the frames of one published batch (see APPEND_MESSAGES); JSON.stringify never leaves one unescaped. */
const FRAME_SEPARATOR = 0x0a;

/** Calls `visit` with each frame of a published Valkey message (one frame, or a batch joined by "\n"), in order. */
export function forEachPublishedFrame(payload: Buffer, visit: (frame: Buffer) => void): void {
  let start = 0;
  for (;;) {
    const end = payload.indexOf(FRAME_SEPARATOR, start);
    if (end < 0) {
      visit(start === 0 ? payload : payload.subarray(start));
      return;
    }
    visit(payload.subarray(start, end));
    start = end + 1;
  }
}

/** Offset of the first character of the type value: `{"type":"` is 9 bytes. */
const TYPE_VALUE_OFFSET = 9;
const LOWERCASE_M = 0x6d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** `,"ts":` between the seq and the timestamp. */
const TS_GAP = 6;

export function isMessageFrame(frame: Buffer): boolean {
  return frame[TYPE_VALUE_OFFSET] === LOWERCASE_M;
}

/** Reads the unsigned integer starting at `offset`; returns [value, offset after it]. */
function readUint(frame: Buffer, offset: number): [number, number] {
  let value = 0;
  let i = offset;
  for (; i < frame.length; i++) {
    const byte = frame[i] as number;
    if (byte < DIGIT_0 || byte > DIGIT_9) break;
    value = value * 10 + (byte - DIGIT_0);
  }
  return [value, i];
}

/** Seq and ts of a message frame whose prefix (messageFramePrefix) is `prefixLength` bytes long. */
export function messageSeqAndTs(frame: Buffer, prefixLength: number): { seq: number; ts: number } {
  const [seq, end] = readUint(frame, prefixLength);
  const [ts] = readUint(frame, end + TS_GAP);
  return { seq, ts };
}

/** Seq of a message frame held as a string (history pages). */
export function messageSeqOfText(frame: string, prefixLength: number): number {
  let value = 0;
  for (let i = prefixLength; i < frame.length; i++) {
    const code = frame.charCodeAt(i);
    if (code < DIGIT_0 || code > DIGIT_9) break;
    value = value * 10 + (code - DIGIT_0);
  }
  return value;
}

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}
/** ws exports its Sender (with the public static `frame`), but @types/ws does not declare it. */
const Sender = (WebSocket as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } }).Sender;
const TEXT_FRAME: FrameOptions = { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false };

/**
 * The bytes of one WebSocket message per payload, concatenated: server frames are not masked, so
 * the same bytes can be written to every socket of a room (framed once, written N times).
 */
export function frameTextMessages(payloads: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const payload of payloads) {
    for (const part of Sender.frame(payload, TEXT_FRAME)) parts.push(part);
  }
  return Buffer.concat(parts);
}
