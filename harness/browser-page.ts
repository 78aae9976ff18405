/**
 * A web page for browser tests, served from its own origin (a tiny static HTTP server on 127.0.0.1: each
 * port is an origin of its own). The page carries a small GoMeet client as `window.gomeet`: REST calls with a
 * bearer token (which makes the browser send a CORS preflight) and one WebSocket that records its frames.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { onStopAll } from "./process";

/** The in-page client. Runs in the browser: plain ES2020, no imports. */
const CLIENT_SCRIPT = `
window.gomeet = {
  frames: [],
  events: [],
  socket: undefined,
  async call(base, method, route, token, body) {
    try {
      const headers = { authorization: "Bearer " + token };
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(base + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, body: await response.json() };
    } catch (error) {
      return { error: String(error) };
    }
  },
  open(base, room, token, since) {
    const url = new URL("/ws", base.replace(/^http/, "ws"));
    url.searchParams.set("room", room);
    url.searchParams.set("access_token", token);
    if (since !== undefined) url.searchParams.set("since", String(since));
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => this.events.push("open");
    socket.onerror = () => this.events.push("error");
    socket.onclose = (event) => this.events.push("close " + event.code);
    socket.onmessage = (event) => this.frames.push(JSON.parse(event.data));
  },
  send(data) {
    this.socket.send(JSON.stringify({ type: "message", data }));
  },
  lastSeq() {
    const seqs = this.frames.filter((f) => f.type === "message").map((f) => f.seq);
    return seqs.length === 0 ? undefined : Math.max(...seqs);
  },
};
`;

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>GoMeet test client</title></head>
<body><p>GoMeet test client</p><script>${CLIENT_SCRIPT}</script></body></html>`;

export interface BrowserPageServer {
  /** http://127.0.0.1:<port>: the origin of the page. */
  origin: string;
  stop(): Promise<void>;
}

/** Serves the test page at `/` on a free loopback port. Stopped by `stop()` or the harness's stopAll. */
export async function startBrowserPage(): Promise<BrowserPageServer> {
  const server = http.createServer((req, res) => {
    if (req.url !== "/") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }));
  onStopAll(stop);
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop };
}
