/**
 * Answering on a raw socket and letting go of it: a refused WebSocket upgrade, or a request Node could
 * not parse. `socket.end()` alone half-closes and waits for the client's FIN: a client that never
 * closes would pin the server's descriptor (and its memory) for good. The socket is destroyed once the
 * client has closed or, at the latest, REFUSED_SOCKET_GRACE_MS after the answer, whatever the client does.
 */
import type { Duplex } from "node:stream";

/** Long enough for the answer to reach a client that reads it, short enough that a flood leaves nothing behind. */
export const REFUSED_SOCKET_GRACE_MS = 1000;

export function answerAndClose(socket: Duplex, answer: string, graceMs = REFUSED_SOCKET_GRACE_MS): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), graceMs);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
  if (socket.writable) socket.end(answer);
  else socket.destroy();
}
