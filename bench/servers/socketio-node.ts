/**
 * One Socket.IO node for the fan-out comparison, as a team would write it: WebSocket transport,
 * `@socket.io/redis-adapter` over node-redis on the shared Valkey, the client joins the room named
 * in its handshake query, and every "message" is broadcast to the room (sender included).
 *
 * Env: PORT, REDIS_URL. GET /healthz answers 200 once the adapter is connected. Exits 0 on SIGTERM.
 */
import http from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import { exitOnSignals, requiredEnv } from "./server-env";

async function main(): Promise<void> {
  const port = Number(requiredEnv("PORT"));
  // No per-command timeout: node-redis 5+ defaults to 5 s, and the adapter publishes without
  // handling rejections, so under overload a timed-out PUBLISH would crash the node. node-redis 4,
  // which the adapter's documentation uses, had no command timeout.
  const pubClient = createClient({ url: requiredEnv("REDIS_URL"), commandOptions: { timeout: 0 } });
  const subClient = pubClient.duplicate();
  for (const client of [pubClient, subClient]) client.on("error", (error: Error) => process.stderr.write(`redis: ${error.message}\n`));
  await Promise.all([pubClient.connect(), subClient.connect()]);

  const server = http.createServer((req, res) => {
    if (req.url === "/healthz") res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    else res.writeHead(404).end();
  });
  const io = new Server(server, { adapter: createAdapter(pubClient, subClient), transports: ["websocket"], serveClient: false });
  io.on("connection", (socket) => {
    const room = String(socket.handshake.query.room ?? "");
    void socket.join(room);
    socket.on("message", (data: unknown) => {
      io.to(room).emit("message", data);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  exitOnSignals(async () => {
    await io.close();
    await Promise.allSettled([pubClient.quit(), subClient.quit()]);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`socketio-node: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
