/**
 * The instance's ports: on the public one HTTP requests go to the request handler, WebSocket upgrades to the
 * gateway; the internal one (METRICS_PORT) is the same without a gateway (an upgrade there is refused by Node: no
 * "upgrade" listener). On both, a malformed request gets a bare 400 (431 for oversized headers), after which the
 * socket is destroyed (see http/refuse-socket.ts); headers must arrive within HTTP_HEADERS_TIMEOUT_MS, the whole
 * request within HTTP_REQUEST_TIMEOUT_MS (else 408), and an idle keep-alive connection is closed after
 * HTTP_KEEP_ALIVE_TIMEOUT_MS.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { answerAndClose } from "../http/refuse-socket";
import type { Logger } from "../logger";
import type { Gateway } from "../realtime/gateway";

export interface HttpServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export function createHttpServer(
  handler: http.RequestListener,
  gateway: Gateway | undefined,
  logger: Logger,
  timeouts: HttpServerTimeouts,
): http.Server {
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (default 30 s): check often enough that they mean what they say.
      connectionsCheckingInterval: Math.min(1000, timeouts.headersTimeoutMs / 2),
    },
    handler,
  );
  if (gateway !== undefined) server.on("upgrade", (req, socket, head) => gateway.handleUpgrade(req, socket as Socket, head));
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    logger.debug({ err: error.message }, "HTTP client error");
    // Request headers over Node's limit (16 KiB): 431, so a client sees why (e.g. an oversized token).
    const status =
      error.code === "HPE_HEADER_OVERFLOW"
        ? "431 Request Header Fields Too Large"
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? "408 Request Timeout"
          : "400 Bad Request";
    answerAndClose(socket, `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
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
