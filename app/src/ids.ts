/** Identifier formats. Validated before any Valkey key or SQL parameter is built from them. */
import { createHash, randomBytes } from "node:crypto";

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

/** Longest user id (a token's `sub`, a member's `userId`). */
export const MAX_USER_ID_LENGTH = 128;

/** A UTF-16 surrogate without its pair: not a character, and UTF-8 cannot encode it (it would become U+FFFD). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0 and C1 control characters and DEL. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why `text` cannot be an id or a display name, or undefined when it can: control characters (a newline would
 * let two ids look alike in logs and joined keys) and lone surrogates (lossy in UTF-8, so two distinct ids would
 * encode alike) are refused wherever ids come in.
 */
export function unsafeTextProblem(text: string): string | undefined {
  if (CONTROL_CHARACTER.test(text)) return "contains a control character";
  if (LONE_SURROGATE.test(text)) return "contains a lone UTF-16 surrogate (not a character)";
  return undefined;
}

/** A user id: 1-128 UTF-16 code units, no control character, no lone surrogate. */
export function isValidUserId(value: unknown): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= MAX_USER_ID_LENGTH && unsafeTextProblem(value) === undefined;
}

/**
 * The one way a key is derived from several fields: the JSON array of the fields (unambiguous: every field is
 * quoted and escaped, and JSON.stringify escapes a lone surrogate as \uXXXX) hashed (sha256, base64url) over its
 * exact UTF-16 code units. No separator to forge, no lossy encoding: distinct field lists give distinct keys.
 */
export function exactKey(fields: readonly string[]): string {
  return codeUnitDigest(JSON.stringify(fields));
}

/** sha256 (base64url) of a string's exact UTF-16 code units. */
export function codeUnitDigest(text: string): string {
  return createHash("sha256").update(Buffer.from(text, "utf16le")).digest("base64url");
}
