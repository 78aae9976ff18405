/**
 * Access-token attacks against the real app, in HS256 mode and in JWKS (RS256) mode, with an issuer and
 * an audience configured: `alg: none`, HS/RS algorithm confusion, an embedded key, `nbf` in the future,
 * wrong `iss` / `aud`, and oversized tokens. Every one is 401 `invalid_token` (over Node's 16 KiB
 * header limit: 431, before the app sees the request).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from "jose";
import { MAX_TOKEN_BYTES } from "../../app/src/auth";
import { startApp, type RunningApp } from "../../app/src/app";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres } from "../../harness/postgres";
import { onStopAll, stopAll } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appConfig, createRoom, refusedUpgrade, JWT_SECRET, type Backends } from "./helpers";

const ISSUER = "https://auth.gomeet.example";
const AUDIENCE = "gomeet-api";
const claims = { AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE };
const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

let hsApp: RunningApp;
let rsApp: RunningApp;
let room: string;
let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
let publicJwk: JWK;

beforeAll(async () => {
  const [redis, postgres, livekit] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("lk")]);
  const backends: Backends = { redisUrl: redis.url, databaseUrl: postgres.url, livekit: [livekit] };
  rsa = await generateKeyPair("RS256", { extractable: true });
  publicJwk = { ...(await exportJWK(rsa.publicKey)), kid: "rs1", alg: "RS256", use: "sig" };
  const jwks = http.createServer((_req, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [publicJwk] })),
  );
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
  onStopAll(() => new Promise((resolve) => jwks.close(() => resolve())));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  [hsApp, rsApp] = await Promise.all([
    startApp(appConfig(backends, "jwt-hs", claims)),
    startApp(appConfig(backends, "jwt-rs", { ...claims, AUTH_JWT_SECRET: "", AUTH_JWKS_URL: jwksUrl })),
  ]);
  room = await createRoom(hsApp.url, await hsToken());
}, 60_000);

afterAll(async () => {
  await Promise.all([hsApp?.stop(), rsApp?.stop()]);
  await stopAll();
});

function hsToken(edit: (jwt: SignJWT) => SignJWT = (jwt) => jwt, payload: Record<string, unknown> = {}): Promise<string> {
  return edit(
    new SignJWT(payload)
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("alice")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m"),
  ).sign(new TextEncoder().encode(JWT_SECRET));
}

function rsToken(edit: (jwt: SignJWT) => SignJWT = (jwt) => jwt): Promise<string> {
  return edit(
    new SignJWT({})
      .setProtectedHeader({ alg: "RS256", kid: "rs1" })
      .setSubject("alice")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m"),
  ).sign(rsa.privateKey);
}

/** A JWS signed with HMAC-SHA256 over `key` by hand (jose refuses to misuse a public key this way). */
function hmacToken(header: Record<string, unknown>, key: Buffer | string): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64(header)}.${b64({ sub: "mallory", iss: ISSUER, aud: AUDIENCE, exp: now + 300 })}`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

async function expectRefused(app: RunningApp, bad: string, messagePart: string | RegExp): Promise<void> {
  const response = await api(app.url, "GET", `/rooms/${room}`, { token: bad });
  expect(response.status).toBe(401);
  expect(response.body.error.code).toBe("invalid_token");
  expect(response.body.error.message).toMatch(messagePart);
  const upgrade = await refusedUpgrade(app.url, { room, access_token: bad });
  expect(upgrade.status).toBe(401);
  expect(upgrade.body.error.code).toBe("invalid_token");
}

test("the well-formed tokens of each mode are accepted (the attacks below differ in one thing)", async () => {
  expect((await api(hsApp.url, "GET", `/rooms/${room}`, { token: await hsToken() })).status).toBe(200);
  expect((await api(rsApp.url, "GET", `/rooms/${room}`, { token: await rsToken() })).status).toBe(200);
});

test("alg none is refused in both modes", async () => {
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: "none" })}.${b64({ sub: "mallory", iss: ISSUER, aud: AUDIENCE, exp: now + 300 })}.`;
  await expectRefused(hsApp, unsigned, /Unsupported "alg"|alg/);
  await expectRefused(rsApp, unsigned, /alg/);
});

test("HS/RS confusion: an HS256 token whose HMAC key is the JWKS's public RSA key is refused in JWKS mode", async () => {
  const pem = await exportSPKI(rsa.publicKey);
  for (const key of [pem, Buffer.from(pem), Buffer.from(publicJwk.n as string, "base64url")]) {
    await expectRefused(rsApp, hmacToken({ alg: "HS256", kid: "rs1" }, key), /alg/);
  }
});

test("a token that carries its own key (jwk header) is not verified with it", async () => {
  const attacker = await generateKeyPair("RS256", { extractable: true });
  const embedded = await new SignJWT({})
    .setProtectedHeader({ alg: "RS256", jwk: await exportJWK(attacker.publicKey) })
    .setSubject("mallory")
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime("5m")
    .sign(attacker.privateKey);
  await expectRefused(rsApp, embedded, /.+/);
});

test("nbf in the future is refused", async () => {
  const future = Math.floor(Date.now() / 1000) + 600;
  await expectRefused(hsApp, await hsToken((jwt) => jwt.setNotBefore(future)), /nbf/);
  await expectRefused(rsApp, await rsToken((jwt) => jwt.setNotBefore(future)), /nbf/);
});

test("a wrong or missing iss / aud is refused", async () => {
  await expectRefused(hsApp, await hsToken((jwt) => jwt.setIssuer("https://other-issuer.example")), /iss/);
  await expectRefused(hsApp, await hsToken((jwt) => jwt.setAudience("another-api")), /aud/);
  await expectRefused(rsApp, await rsToken((jwt) => jwt.setIssuer("https://other-issuer.example")), /iss/);
  await expectRefused(rsApp, await rsToken((jwt) => jwt.setAudience(["another-api"])), /aud/);
  const noIssuer = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("alice")
    .setAudience(AUDIENCE)
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(JWT_SECRET));
  await expectRefused(hsApp, noIssuer, /iss/);
});

test(`a token over ${MAX_TOKEN_BYTES} bytes is refused before it is parsed; past Node's header limit the server answers 431`, async () => {
  const oversized = await hsToken((jwt) => jwt, { padding: "x".repeat(MAX_TOKEN_BYTES) });
  expect(oversized.length).toBeGreaterThan(MAX_TOKEN_BYTES);
  await expectRefused(hsApp, oversized, `longer than ${MAX_TOKEN_BYTES} bytes`);
  // Just under the limit, a token is verified as usual (a valid signature, so it is accepted).
  const atLimit = await hsToken((jwt) => jwt, { padding: "x".repeat(Math.floor((MAX_TOKEN_BYTES * 3) / 4) - 200) });
  expect(atLimit.length).toBeLessThanOrEqual(MAX_TOKEN_BYTES);
  expect(atLimit.length).toBeGreaterThan(MAX_TOKEN_BYTES - 400);
  expect((await api(hsApp.url, "GET", `/rooms/${room}`, { token: atLimit })).status).toBe(200);
  const huge = await hsToken((jwt) => jwt, { padding: "x".repeat(20_000) });
  const response = await api(hsApp.url, "GET", `/rooms/${room}`, { token: huge });
  expect(response.status).toBe(431);
});

test("a 401 body is in the service's own words, never the JWT library's", async () => {
  const forged = await hsToken().then((jwt) => `${jwt.slice(0, jwt.lastIndexOf("."))}.${"A".repeat(43)}`);
  const response = await api(hsApp.url, "GET", `/rooms/${room}`, { token: forged });
  expect(response).toEqual({
    status: 401,
    body: { error: { code: "invalid_token", message: "The access token is not valid: its signature does not verify" } },
  });
  const wrongAudience = await api(hsApp.url, "GET", `/rooms/${room}`, { token: await hsToken((jwt) => jwt.setAudience("another-api")) });
  expect(wrongAudience.body.error.message).toBe("The access token is not valid: the aud claim is missing or not accepted");
  const garbage = await api(hsApp.url, "GET", `/rooms/${room}`, { token: "not-a-jwt" });
  expect(garbage.body.error.message).toBe("The access token is not valid: it is not a well-formed signed JWT");
  // jose's own phrases ("signature verification failed", "unexpected \"aud\" claim value", "JWS Payload …") stay out.
  for (const body of [response.body, wrongAudience.body, garbage.body]) {
    expect(body.error.message).not.toMatch(/verification failed|unexpected|JWS|JWT Claims|payload/i);
  }
});

test.each([
  ["an embedded newline", "alice\nbob"],
  ["a control character", "alice\u0000"],
  ["a lone high surrogate", "alice\uD800"],
  ["a lone low surrogate", "\uDC00alice"],
])("a sub with %s is refused (ids must be exact and printable)", async (_label, sub) => {
  const signed = await hsToken((jwt) => jwt.setSubject(sub));
  await expectRefused(hsApp, signed, /"sub" must be a user id/);
});

test("a name with a lone surrogate is refused; a name with an emoji (a surrogate pair) is fine", async () => {
  await expectRefused(hsApp, await hsToken((jwt) => jwt, { name: "Al\uD83Dice" }), /"name" must be/);
  expect((await api(hsApp.url, "GET", `/rooms/${room}`, { token: await hsToken((jwt) => jwt, { name: "Alice \u{1F600}" }) })).status).toBe(
    200,
  );
});
