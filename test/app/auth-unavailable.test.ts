/**
 * An identity-provider outage is not a bad token: when the JWKS cannot be fetched (connection refused, no answer
 * within the 2 s timeout) the authenticator answers 503 auth_unavailable, never 401 invalid_token. The same token
 * is accepted once the key set answers. The key set is a stand-in HTTP server on 127.0.0.1.
 */
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createAuthenticator } from "../../app/src/auth";
import { HttpError } from "../../app/src/errors";
import { freePort } from "../../harness/ports";

let token: string;
let keySet: object;

beforeAll(async () => {
  const rsa = await generateKeyPair("RS256", { extractable: true });
  keySet = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: "k1", alg: "RS256", use: "sig" }] };
  token = await new SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .setSubject("alice")
    .setExpirationTime("5m")
    .sign(rsa.privateKey);
});

/** What the authenticator throws for `token` with its key set at `url` (undefined: it accepted the token). */
async function outcome(url: string): Promise<{ status: number; code: string } | { user: string }> {
  const authenticate = createAuthenticator({ kind: "jwks", jwksUrl: url }, {});
  try {
    return { user: (await authenticate(token)).id };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, code: error.code };
  }
}

async function listen(server: http.Server | net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
}

test("a key set that answers: the token is accepted (the cases below differ only in the key set)", async () => {
  const server = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(keySet)));
  const url = await listen(server);
  try {
    expect(await outcome(url)).toEqual({ user: "alice" });
  } finally {
    server.close();
  }
});

test("connection refused: 503 auth_unavailable", async () => {
  expect(await outcome(`http://127.0.0.1:${await freePort()}/jwks.json`)).toEqual({ status: 503, code: "auth_unavailable" });
});

test("no answer within the timeout: 503 auth_unavailable", async () => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => sockets.push(socket)); // accepts, never answers
  const url = await listen(silent);
  try {
    expect(await outcome(url)).toEqual({ status: 503, code: "auth_unavailable" });
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
}, 10_000);
