/**
 * Building blocks of the bad-input drill's generators (http-inputs.ts, ws-inputs.ts): hostile room ids, JSON texts
 * that do not parse, alphabets, and how fixed lists are walked.
 */
import type { Random } from "./random";

export const LOOPBACK_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const NASTY_ALPHABET = `${LOOPBACK_ALPHABET} !"#$%&'()*+,./:;<=>?@[\\]^\`{|}~-_\u0000\u0001\u007f\u00e9\u2028\u202e\u30eb\ud83d\ude00`;

const FIXED_HOSTILE_ROOM_IDS = [
  "",
  " ",
  ".",
  "..",
  "../../etc/passwd",
  "..%2f..%2fetc%2fpasswd",
  "room:{x}",
  "room:{x}:seq",
  "*",
  "?",
  "#",
  "%",
  "%00",
  "\u0000",
  "a".repeat(65),
  "a".repeat(3000),
  "ルーム",
  "😀",
  "<script>alert(1)</script>",
  "'; DROP TABLE rooms; --",
  "1 OR 1=1",
  "${jndi:ldap://127.0.0.1/x}",
  "\r\nSet-Cookie: x=1",
  "room id",
  "room\tid",
  "{{7*7}}",
  "__proto__/../x",
  "a/b",
  "KEYS *",
];

/** The n-th item, cycling: fixed lists are covered in full before any item repeats. */
export function cycle<T>(items: readonly T[], n: number): T {
  return items[n % items.length] as T;
}

/** A room id that is not a usable room: invalid format, or valid format but nonexistent (random). */
export function hostileRoomId(rng: Random, n: number): string {
  switch (n % 3) {
    case 0:
      return cycle(FIXED_HOSTILE_ROOM_IDS, Math.floor(n / 3));
    case 1:
      return rng.string(1 + rng.int(120), NASTY_ALPHABET);
    default:
      // Well-formed and random: must be 403 room_access_denied, as any room one is not a member of (no drill room has this shape).
      return `nx${rng.string(10 + rng.int(40), `${LOOPBACK_ALPHABET}_-`)}`;
  }
}

/** JSON texts that do not parse. */
export const INVALID_JSON = [
  "{",
  "[",
  "{name:",
  "{'name':'x'}",
  '{"name":}',
  '{"name":"x",}',
  "NaN",
  "undefined",
  "nul",
  '"unterminated',
  "{}}",
  "\u0000",
  "[1,2",
  '{"name":"x"',
  "--",
];
