/**
 * Malformed inputs for the bad-input drill, generated from a seed: HTTP requests, WebSocket
 * upgrade requests and WebSocket frames. None of them is acceptable to a correct server: each
 * generator leaves out the combinations that would be valid (a well-formed frame, a good token
 * with a good body), so any 2xx answer, accepted upgrade or published message is a finding.
 */
import { SignJWT } from "jose";
import type { Random } from "./random";

export interface HttpInput {
  category: string;
  method: string;
  /** Path and query, percent-encoded. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface UpgradeInput {
  category: string;
  /** Path and query, percent-encoded. */
  path: string;
}

export interface FrameInput {
  category: string;
  data: string | Buffer;
  binary: boolean;
  /** The close code the server must answer with (the frame ends the connection); undefined: an error frame, socket stays open. */
  closes?: number;
}

/** Tokens that must all be refused, signed ahead (jose signs asynchronously). */
export interface BadTokens {
  /** Well-formed and correctly signed, but not acceptable (expired, no sub, ...). */
  list: Array<{ label: string; token: string }>;
}

const LOOPBACK_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const NASTY_ALPHABET = `${LOOPBACK_ALPHABET} !"#$%&'()*+,./:;<=>?@[\\]^\`{|}~-_\u0000\u0001\u007f\u00e9\u2028\u202e\u30eb\ud83d\ude00`;
const PRINTABLE = " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";

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
function cycle<T>(items: readonly T[], n: number): T {
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
      // Well-formed and random: must be 404 room_not_found (no drill room has this shape).
      return `nx${rng.string(10 + rng.int(40), `${LOOPBACK_ALPHABET}_-`)}`;
  }
}

function b64url(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

/** Signs every kind of unacceptable token ahead of the barrage. */
export async function badTokens(secret: string, validToken: string): Promise<BadTokens> {
  const key = new TextEncoder().encode(secret);
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, alg = "HS256", signingKey = key): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg }).sign(signingKey);
  const [header, payload, signature] = validToken.split(".") as [string, string, string];
  const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
  const list = [
    {
      label: "forged (another secret)",
      token: await sign({ sub: "mallory", exp: now + 3600 }, "HS256", new TextEncoder().encode("x".repeat(43))),
    },
    { label: "alg none", token: `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: "mallory", exp: now + 3600 })}.` },
    { label: "HS512", token: await sign({ sub: "mallory", exp: now + 3600 }, "HS512") },
    { label: "expired", token: await sign({ sub: "mallory", exp: now - 60 }) },
    { label: "no sub", token: await sign({ exp: now + 3600 }) },
    { label: "empty sub", token: await sign({ sub: "", exp: now + 3600 }) },
    { label: "sub too long", token: await sign({ sub: "m".repeat(200), exp: now + 3600 }) },
    { label: "sub not a string", token: await sign({ sub: 42, exp: now + 3600 }) },
    { label: "name not a string", token: await sign({ sub: "mallory", name: { evil: true }, exp: now + 3600 }) },
    { label: "no exp", token: await sign({ sub: "mallory" }) },
    { label: "not yet valid", token: await sign({ sub: "mallory", exp: now + 7200, nbf: now + 3600 }) },
    { label: "payload swapped", token: `${header}.${b64url({ sub: "admin", exp: now + 3600 })}.${signature}` },
    { label: "signature flipped", token: `${header}.${payload}.${flipped}` },
    { label: "signature cut", token: `${header}.${payload}.${signature.slice(0, 10)}` },
    { label: "no signature", token: `${header}.${payload}` },
    { label: "not a JWT", token: "not-a-jwt" },
    { label: "dots", token: "..." },
    { label: "bad base64", token: "e30.e30.%%%" },
    { label: "huge", token: "a".repeat(6000) },
  ];
  return { list };
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

/** JSON texts that do not parse. */
const INVALID_JSON = [
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

/** One refused WebSocket upgrade request; `room` is a real room, `token` a valid token. */
export function upgradeInput(rng: Random, i: number, room: string, token: string, tokens: BadTokens): UpgradeInput {
  const query = (params: Record<string, string | undefined>): string => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, value);
    return search.toString();
  };
  const round = Math.floor(i / 5);
  switch (i % 5) {
    case 0:
      return { category: "ws hostile room id", path: `/ws?${query({ room: hostileRoomId(rng, round), access_token: token })}` };
    case 1: {
      const bad = cycle(tokens.list, round);
      return { category: `ws token: ${bad.label}`, path: `/ws?${query({ room, access_token: bad.token })}` };
    }
    case 2:
      return { category: "ws token: missing", path: `/ws?${query({ room, access_token: cycle([undefined, ""], round) })}` };
    case 3: {
      const since = cycle(["abc", "-1", "1.5", "1e3", "", "0x10", "9".repeat(16), "9".repeat(40), " 1", "NaN", "Infinity", "1,2"], round);
      return { category: "ws invalid since", path: `/ws?${query({ room, access_token: token, since })}` };
    }
    default:
      return {
        category: "ws missing room or bad path",
        path: cycle(
          [
            `/ws?${query({ access_token: token })}`,
            `/ws/x?${query({ room, access_token: token })}`,
            `/wss?${query({ room, access_token: token })}`,
            `/ws?${query({ room: "", access_token: token })}`,
          ],
          round,
        ),
      };
  }
}

/** Whether `text` is a frame the server must accept ({type: "message", data}); generators never send one. */
export function isValidClientFrame(text: string): boolean {
  try {
    const value = JSON.parse(text) as unknown;
    return (
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      (value as { type?: unknown }).type === "message" &&
      "data" in value
    );
  } catch {
    return false;
  }
}

/** Well-formed JSON that is not a client frame (type must be "message", data is required). */
const WRONG_SHAPES: string[] = [
  ...[
    42,
    "message",
    null,
    true,
    [],
    [{ type: "message", data: 1 }],
    {},
    { type: "message" },
    { type: "Message", data: 1 },
    { type: "MESSAGE", data: 1 },
    { type: 1, data: 1 },
    { type: null, data: 1 },
    { type: ["message"], data: 1 },
    { type: { toString: "message" }, data: 1 },
    { data: "no type" },
    { type: "join", room: "x" },
    { type: "presence", event: "join" },
    { type: "welcome", seq: 1 },
  ].map((value) => JSON.stringify(value)),
  '{"__proto__":{"type":"message","data":1}}',
  '{"constructor":{"prototype":{"type":"message","data":1}}}',
  '{"type":"message\u0000","data":1}',
  '{"type":"message "}',
];

/** One malformed frame. */
function frameCandidate(rng: Random, i: number, maxFrameBytes: number): FrameInput {
  const round = Math.floor(i / 8);
  switch (i % 8) {
    case 0:
      return { category: "ws binary random bytes", data: rng.bytes(1 + rng.int(2000)), binary: true };
    case 1:
      return { category: "ws text garbage", data: `~${rng.string(rng.int(500), PRINTABLE)}`, binary: false };
    case 2:
      return { category: "ws invalid JSON", data: cycle(INVALID_JSON, round), binary: false };
    case 3:
    case 4:
      return { category: "ws wrong shape", data: cycle(WRONG_SHAPES, round * 2 + (i % 8) - 3), binary: false };
    case 5: {
      const depth = 100 + rng.int(Math.floor(maxFrameBytes / 2) - 200);
      return { category: "ws deep nesting", data: `${"[".repeat(depth)}${"]".repeat(depth)}`, binary: false };
    }
    case 6: {
      // Not UTF-8: the WebSocket protocol requires text frames to be; the server closes with 1007.
      const bytes = Buffer.concat([
        Buffer.from('{"type":"message","data":"'),
        Buffer.from([0xff, 0xfe, 0xc0, 0x80, rng.int(256) | 0x80]),
        Buffer.from('"}'),
      ]);
      return { category: "ws invalid UTF-8 text", data: bytes, binary: false, closes: 1007 };
    }
    default: {
      const size = maxFrameBytes + 1 + rng.int(4 * maxFrameBytes);
      return { category: "ws oversized frame", data: `{"type":"message","data":"${"x".repeat(size)}"}`, binary: false, closes: 1009 };
    }
  }
}

export function frameInput(rng: Random, i: number, maxFrameBytes: number): FrameInput {
  const frame = frameCandidate(rng, i, maxFrameBytes);
  if (!frame.binary && frame.closes === undefined && isValidClientFrame(frame.data.toString())) {
    throw new Error(`frameInput: generated a valid client frame (${frame.category}): ${frame.data.toString().slice(0, 100)}`);
  }
  return frame;
}
