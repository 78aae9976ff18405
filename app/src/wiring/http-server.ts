/**
 * The instance's ports: on the public one HTTP requests go to the request handler, WebSocket upgrades to the
 * gateway, and a malformed request gets a bare 400 (431 for oversized headers); the internal one (METRICS_PORT)
 * is the same without a gateway (an upgrade there is refused by Node: no "upgrade" listener).
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "../logger";
import type { Gateway } from "../realtime/gateway";

export function createHttpServer(handler: http.RequestListener, gateway: Gateway | undefined, logger: Logger): http.Server {
  const server = http.createServer(handler);
  if (gateway !== undefined) server.on("upgrade", (req, socket, head) => gateway.handleUpgrade(req, socket as Socket, head));
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    logger.debug({ err: error.message }, "HTTP client error");
    // Request headers over Node's limit (16 KiB): 431, so a client sees why (e.g. an oversized token).
    const status = error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
  });
  return server;
}

/** Listens on host:port (port 0: any free port); resolves once listening, rejects if the port cannot be taken. */
export function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Stops a server and drops its open connections (a start that failed after it listened). */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Where a listening server is reached: http://<host>:<port>, with 127.0.0.1 for a server listening on every address. */
export function serverUrl(server: http.Server, host: string): { url: string; port: number } {
  const port = (server.address() as AddressInfo).port;
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return { url: `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`, port };
}
