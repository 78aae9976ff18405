/**
 * Free loopback TCP ports for servers started by tests and the local cluster.
 *
 * The kernel picks an unused ephemeral port; we close our listener and hand the number out. A port
 * handed out once is never handed out again by this Node process, so two servers started
 * concurrently by the same process cannot be given the same port.
 */
import net from "node:net";

const LOOPBACK = "127.0.0.1";
const handedOut = new Set<number>();
const MAX_ATTEMPTS = 50;

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error(`freePort: unexpected listener address ${String(address)}`));
      });
    });
  });
}

/** A free 127.0.0.1 TCP port, not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const port = await probe();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no new free port on ${LOOPBACK} after ${MAX_ATTEMPTS} attempts`);
}

/** Whether something accepts TCP connections on 127.0.0.1:port right now. */
export function isListening(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    const done = (listening: boolean): void => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
