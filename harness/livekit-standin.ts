/**
 * An in-process stand-in for a LiveKit deployment: what the app needs from one is its URL, an API
 * key/secret pair and its health endpoint. The health endpoint behaves like livekit-server's
 * (pkg/service/server.go, healthCheck): GET / answers 200 "OK" when healthy and 406 "Not Ready" when not.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { freePort } from "./ports";
import { onStopAll } from "./process";

export interface LivekitStandIn {
  name: string;
  /** ws://127.0.0.1:<port>, what clients and the app are given as the LiveKit URL. */
  url: string;
  /** http://127.0.0.1:<port>, where the health endpoint is. */
  httpUrl: string;
  apiKey: string;
  apiSecret: string;
  setHealthy(healthy: boolean): void;
  /** Closes the server and every open connection: the deployment is unreachable (connection refused). */
  stop(): Promise<void>;
  /** Listens again on the same port, with the same key and secret. */
  start(): Promise<void>;
  /** Health requests answered so far (how often the app polled it). */
  healthChecks(): number;
}

const LOOPBACK = "127.0.0.1";

function listen(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: LOOPBACK, port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

export async function startLivekitStandIn(name: string): Promise<LivekitStandIn> {
  let healthy = true;
  let checks = 0;
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && (req.url === "/" || req.url?.startsWith("/?"))) {
      checks++;
      if (healthy) res.writeHead(200, { "Content-Type": "text/plain" }).end("OK");
      else res.writeHead(406, { "Content-Type": "text/plain" }).end(`Not Ready\nNode Updated At ${new Date(0).toISOString()}`);
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" }).end("404 page not found\n");
  });
  const port = await freePort();
  await listen(server, port);
  let unregister: (() => void) | undefined;
  const stop = async (): Promise<void> => {
    unregister?.();
    unregister = undefined;
    if (!server.listening) return;
    const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    server.closeAllConnections();
    await closed;
  };
  const register = (): void => {
    unregister = onStopAll(stop);
  };
  register();
  return {
    name,
    url: `ws://${LOOPBACK}:${port}`,
    httpUrl: `http://${LOOPBACK}:${port}`,
    apiKey: `API${randomBytes(6).toString("hex")}`,
    apiSecret: randomBytes(32).toString("base64url"),
    setHealthy: (value) => {
      healthy = value;
    },
    stop,
    start: async () => {
      if (server.listening) return;
      await listen(server, port);
      register();
    },
    healthChecks: () => checks,
  };
}
