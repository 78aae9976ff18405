/**
 * App stand-ins behind nginx for the harness tests (harness.test.ts): HTTP and WebSocket upstreams that answer with
 * their id, and clients that ask which upstream served them.
 */
import http from "node:http";
import WebSocket, { WebSocketServer } from "ws";
import { freePort } from "../../harness/ports";
import { onStopAll } from "../../harness/process";

export interface Upstream {
  id: string;
  port: number;
  close(): Promise<void>;
}

/** An app stand-in: HTTP answers with its id, /ws echoes with its id. */
export async function startUpstream(id: string): Promise<Upstream> {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ id, method: req.method, forwardedFor: req.headers["x-forwarded-for"] ?? null }));
    });
  });
  const wss = new WebSocketServer({ server, path: "/ws" });
  wss.on("connection", (socket) => socket.on("message", (data) => socket.send(`${id}:${String(data)}`)));
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const close = async (): Promise<void> => {
    unregister();
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const unregister = onStopAll(close);
  return { id, port, close };
}

/** One request on a new connection (as a new client would), returning the upstream's answer. */
export function request(url: string, method = "GET"): Promise<{ id: string; forwardedFor: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () =>
        res.statusCode === 200
          ? resolve(JSON.parse(body) as { id: string; forwardedFor: string | null })
          : reject(new Error(`${method} ${url}: HTTP ${String(res.statusCode)} ${body}`)),
      );
    });
    req.on("error", reject);
    req.end(method === "POST" ? "{}" : undefined);
  });
}

export async function served(url: string, method = "GET"): Promise<string> {
  return (await request(url, method)).id;
}

export function echoOverWebSocket(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once("open", () => socket.send(text));
    socket.once("message", (data) => {
      resolve(String(data));
      socket.close();
    });
    socket.once("error", reject);
  });
}
