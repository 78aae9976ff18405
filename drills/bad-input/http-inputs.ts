/**
 * Malformed HTTP requests for the bad-input drill, generated from a seed. None of them is acceptable to a correct
 * server: the generator leaves out the combinations that would be valid (a good token with a good body), so any 2xx
 * answer is a finding.
 */
import type { BadTokens } from "./bad-tokens";
import { cycle, hostileRoomId, INVALID_JSON, LOOPBACK_ALPHABET } from "./hostile-values";
import type { Random } from "./random";

export interface HttpInput {
  category: string;
  method: string;
  /** Path and query, percent-encoded. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Authorization header values that carry no usable token. */
const MISSING_AUTH: Array<Record<string, string>> = [
  {},
  { authorization: "" },
  { authorization: "Bearer" },
  { authorization: "Bearer " },
  { authorization: "Basic YWxpY2U6c2VjcmV0" },
  { authorization: "Token abc" },
  { authorization: "Bearer a b c" },
];

/** Well-formed JSON that is not a valid POST /rooms body. */
const INVALID_ROOM_BODIES: unknown[] = [
  {},
  [],
  null,
  5,
  "name",
  true,
  { name: 5 },
  { name: null },
  { name: [] },
  { name: {} },
  { name: true },
  { name: "" },
  { name: "   " },
  { name: "x".repeat(101) },
  { nome: "x" },
  { NAME: "x" },
  [{ name: "x" }],
  { name: "a\u0000b" },
];

/** Well-formed JSON that is not a valid token request body. */
const INVALID_TOKEN_BODIES: unknown[] = [
  [],
  null,
  5,
  "grants",
  true,
  { canPublish: "yes" },
  { canPublish: 1 },
  { canSubscribe: null },
  { canPublishData: {} },
  { canPublish: [] },
  [{ canPublish: true }],
];

function randomJunk(rng: Random): Buffer {
  return rng.bytes(1 + rng.int(400));
}

/** One malformed HTTP request; `room` is a real room, `token` a valid token. */
export function httpInput(rng: Random, i: number, room: string, token: string, tokens: BadTokens): HttpInput {
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, "content-type": "application/json" };
  const roomPath = `/rooms/${encodeURIComponent(room)}`;
  const routes: Array<{ method: string; path: string; body?: string }> = [
    { method: "GET", path: roomPath },
    { method: "GET", path: `${roomPath}/participants` },
    { method: "POST", path: `${roomPath}/token` },
    { method: "POST", path: "/rooms", body: JSON.stringify({ name: "must not be created" }) },
  ];
  const round = Math.floor(i / 8);
  switch (i % 8) {
    case 0: {
      const route = rng.pick(routes);
      const bad = cycle(tokens.list, round);
      return {
        category: `http token: ${bad.label}`,
        method: route.method,
        path: route.path,
        headers: { authorization: `Bearer ${bad.token}`, "content-type": "application/json" },
        body: route.body,
      };
    }
    case 1: {
      const route = rng.pick(routes);
      return {
        category: "http token: missing",
        method: route.method,
        path: route.path,
        headers: { ...cycle(MISSING_AUTH, round), "content-type": "application/json" },
        body: route.body,
      };
    }
    case 2: {
      const id = encodeURIComponent(hostileRoomId(rng, round));
      const shape = rng.int(3);
      const path = shape === 0 ? `/rooms/${id}` : shape === 1 ? `/rooms/${id}/participants` : `/rooms/${id}/token`;
      return { category: "http hostile room id", method: shape === 2 ? "POST" : "GET", path, headers: auth };
    }
    case 3: {
      const kind = round % 4;
      const nth = Math.floor(round / 4);
      if (kind === 0)
        return { category: "http POST /rooms random bytes", method: "POST", path: "/rooms", headers: json, body: randomJunk(rng) };
      if (kind === 1)
        return { category: "http POST /rooms invalid JSON", method: "POST", path: "/rooms", headers: json, body: cycle(INVALID_JSON, nth) };
      if (kind === 2)
        return {
          category: "http POST /rooms wrong types",
          method: "POST",
          path: "/rooms",
          headers: json,
          body: JSON.stringify(cycle(INVALID_ROOM_BODIES, nth)),
        };
      const type = cycle(["text/plain", "application/x-www-form-urlencoded", "application/jsonp", "multipart/form-data"], nth);
      return {
        category: "http POST /rooms wrong content type",
        method: "POST",
        path: "/rooms",
        headers: { ...auth, "content-type": type },
        body: JSON.stringify({ name: "must not be created" }),
      };
    }
    case 4: {
      const kind = round % 3;
      const nth = Math.floor(round / 3);
      const path = `${roomPath}/token`;
      if (kind === 0) return { category: "http token body random bytes", method: "POST", path, headers: json, body: randomJunk(rng) };
      if (kind === 1)
        return { category: "http token body invalid JSON", method: "POST", path, headers: json, body: cycle(INVALID_JSON, nth) };
      return {
        category: "http token body wrong types",
        method: "POST",
        path,
        headers: json,
        body: JSON.stringify(cycle(INVALID_TOKEN_BODIES, nth)),
      };
    }
    case 5: {
      const bad = cycle(
        [
          { method: "DELETE", path: roomPath },
          { method: "PUT", path: "/rooms" },
          { method: "PATCH", path: roomPath },
          { method: "GET", path: "/rooms" },
          { method: "DELETE", path: "/rooms" },
          { method: "GET", path: `${roomPath}/token` },
          { method: "POST", path: `${roomPath}/participants` },
          { method: "GET", path: "/admin" },
          { method: "GET", path: `/rooms/${encodeURIComponent(room)}/../../admin` },
          { method: "GET", path: "/rooms//token" },
          { method: "POST", path: "/healthz" },
          { method: "GET", path: `/${rng.string(1 + rng.int(60), LOOPBACK_ALPHABET)}` },
        ],
        round,
      );
      return { category: "http wrong method or path", method: bad.method, path: bad.path, headers: auth };
    }
    case 6: {
      // Over HTTP_MAX_BODY_BYTES (16 KiB by default): 413 without reading it all.
      const size = 17 * 1024 + rng.int(200 * 1024);
      return {
        category: "http oversized body",
        method: "POST",
        path: rng.pick(["/rooms", `${roomPath}/token`]),
        headers: json,
        body: JSON.stringify({ name: "x".repeat(size) }),
      };
    }
    default: {
      // Oversized request line or header: nginx refuses it (414 / 400) before any instance sees it.
      if (round % 2 === 0)
        return { category: "http oversized URL", method: "GET", path: `/rooms/${"a".repeat(9000 + rng.int(20_000))}`, headers: auth };
      return {
        category: "http oversized header",
        method: "GET",
        path: roomPath,
        headers: { authorization: `Bearer ${"a".repeat(9000 + rng.int(20_000))}` },
      };
    }
  }
}
