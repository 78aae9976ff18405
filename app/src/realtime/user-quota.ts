/**
 * What one user may put into Valkey through WebSocket messages: at most QUOTA_USER_MESSAGES messages
 * and QUOTA_USER_BYTES bytes per QUOTA_WINDOW_SECONDS, over all their connections on every instance
 * (the per-connection rate limit alone lets one user with many sockets fill a room's history and
 * Valkey). Counted in Valkey in a fixed window per user: `HINCRBY` messages and bytes, `PEXPIRE … NX`
 * starts the window, `PTTL` says when it ends; one MULTI, so atomic. Over either bound the message is
 * refused with a `quota_exceeded` error frame saying which bound and when the window ends.
 */
import type { ValkeyConnections } from "../valkey/connections";

export interface UserQuotaLimits {
  windowSeconds: number;
  maxMessages: number;
  maxBytes: number;
}

/** Why a message was refused, for the client's error frame. */
export interface QuotaRefusal {
  message: string;
  retryAfterSeconds: number;
}

/**
 * The counter key of one user. The id is encoded losslessly (UTF-16 code units, so ids that differ by a
 * lone surrogate stay apart) and base64url (it may contain braces, which would be a hash tag, or colons).
 */
export function userQuotaKey(userId: string): string {
  return `quota:{${Buffer.from(userId, "utf16le").toString("base64url")}}:ws`;
}

export class UserQuota {
  constructor(
    private readonly valkey: ValkeyConnections,
    private readonly limits: UserQuotaLimits,
  ) {}

  /** Counts one message of `bytes` for `userId`; resolves undefined when it is within the quota, else why not. */
  async take(userId: string, bytes: number): Promise<QuotaRefusal | undefined> {
    const key = userQuotaKey(userId);
    const windowMs = this.limits.windowSeconds * 1000;
    const replies = await this.valkey.run((client) => {
      // node-redis queues a MULTI while reconnecting even with the offline queue disabled: fail fast like every other command.
      if (!client.isReady) throw new Error("The Valkey connection is not ready (reconnecting)");
      return client.multi().hIncrBy(key, "messages", 1).hIncrBy(key, "bytes", bytes).pExpire(key, windowMs, "NX").pTTL(key).exec();
    });
    const [messages, total, , remainingMs] = replies.map(Number) as [number, number, number, number];
    const retryAfterSeconds = Math.max(1, Math.ceil((remainingMs > 0 ? remainingMs : windowMs) / 1000));
    const window = `per ${this.limits.windowSeconds} s per user`;
    if (messages > this.limits.maxMessages) {
      return {
        retryAfterSeconds,
        message: `Over your quota of ${this.limits.maxMessages} messages ${window} (QUOTA_USER_MESSAGES): message dropped; retry in ${retryAfterSeconds} s`,
      };
    }
    if (total > this.limits.maxBytes) {
      return {
        retryAfterSeconds,
        message: `Over your quota of ${this.limits.maxBytes} bytes ${window} (QUOTA_USER_BYTES): message dropped; retry in ${retryAfterSeconds} s`,
      };
    }
    return undefined;
  }
}
