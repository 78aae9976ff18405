/**
 * Open WebSocket connections per user on this instance, bounded by WS_MAX_SOCKETS_PER_USER: one user's
 * thousand sockets in one room would each get every presence frame of the others (n² frames) and hold
 * a send buffer each. A slot is taken when the upgrade is accepted (before the handshake, so parallel
 * upgrades cannot all slip through) and given back when the TCP socket closes, whatever ended it.
 */
import type { Socket } from "node:net";
import { HttpError } from "../errors";

export class UserSockets {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerUser: number) {}

  /** Takes a slot for `userId` until `socket` closes; throws 429 `too_many_connections` when the user has none left. */
  acquire(userId: string, socket: Socket): void {
    // Already closed (the client went away during the checks): nothing to hold, and "close" will not come again.
    if (socket.closed) return;
    const count = this.open.get(userId) ?? 0;
    if (count >= this.maxPerUser) {
      throw new HttpError(
        429,
        "too_many_connections",
        `At most ${this.maxPerUser} open WebSocket connections per user on one instance (WS_MAX_SOCKETS_PER_USER): close one first`,
      );
    }
    this.open.set(userId, count + 1);
    socket.once("close", () => this.release(userId));
  }

  count(userId: string): number {
    return this.open.get(userId) ?? 0;
  }

  private release(userId: string): void {
    const count = (this.open.get(userId) ?? 1) - 1;
    if (count <= 0) this.open.delete(userId);
    else this.open.set(userId, count);
  }
}
