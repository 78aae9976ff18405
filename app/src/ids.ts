/** Identifier formats. Validated before any Valkey key or SQL parameter is built from them. */
import { randomBytes } from "node:crypto";

export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidRoomId(value: unknown): value is string {
  return typeof value === "string" && ROOM_ID_PATTERN.test(value);
}

/** A new room id: 16 URL-safe characters (96 random bits). */
export function newRoomId(): string {
  return randomBytes(12).toString("base64url");
}

/** A new connection id: 16 URL-safe characters; safe to embed in JSON and Valkey keys without escaping. */
export function newConnectionId(): string {
  return randomBytes(12).toString("base64url");
}
