/**
 * The ceiling: a single-process `ws` server that relays every message to the members of the
 * sender's room (sender included), with nothing else (no sequence numbers, history, presence or
 * cross-process fan-out). The room is the `room` query parameter of the upgrade request.
 *
 * Env: PORT. GET /healthz answers 200. Exits 0 on SIGTERM.
 */
import http from "node:http";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { exitOnSignals, requiredEnv } from "./server-env";

const port = Number(requiredEnv("PORT"));
const rooms = new Map<string, Set<WebSocket>>();

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  else res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });

wss.on("connection", (ws, req) => {
  const room = new URL(req.url ?? "/", "http://localhost").searchParams.get("room") ?? "";
  let members = rooms.get(room);
  if (members === undefined) {
    members = new Set();
    rooms.set(room, members);
  }
  const roomMembers = members;
  roomMembers.add(ws);
  ws.on("message", (data: RawData, isBinary: boolean) => {
    for (const member of roomMembers) member.send(data, { binary: isBinary });
  });
  ws.on("close", () => {
    roomMembers.delete(ws);
    if (roomMembers.size === 0) rooms.delete(room);
  });
  ws.on("error", () => ws.terminate());
});

server.listen(port, "127.0.0.1");
exitOnSignals(async () => {
  wss.close();
  server.closeAllConnections();
});
