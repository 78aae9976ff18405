/** Closing a client WebSocket politely, without waiting forever for a server that does not answer. */
import WebSocket from "ws";

/** Sends a close frame (or drops a connection still connecting) and resolves once closed; terminates after `timeoutMs`. */
export async function closeWebSocket(ws: WebSocket | undefined, reason: string, timeoutMs = 2000): Promise<void> {
  if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, timeoutMs);
    ws.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000, reason);
  });
}
