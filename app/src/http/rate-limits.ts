/**
 * Per-user limits of the expensive REST calls (POST /rooms, POST /rooms/:id/token), counted in Valkey so
 * they hold across every instance: a fixed window per user and action (`SET NX PX` starts the window,
 * `INCR` counts, `PTTL` says when it ends; one MULTI, so atomic). Over the limit: 429 `rate_limited`
 * with `Retry-After` (seconds until the window ends).
 *
 * If Valkey cannot answer within CHECK_TIMEOUT_MS, the call is let through (a Valkey blip must neither stop nor
 * slow room creation, which needs only PostgreSQL), logged and counted in
 * `gomeet_rate_limit_checks_total{result="unavailable"}`. (Commands on the shared connection carry no timeout of
 * their own: on a silent connection they would wait for the ROLE watchdog.)
 */
import type { ServerResponse } from "node:http";
import { HttpError, errorMessage } from "../errors";
import { exactKey } from "../ids";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import type { ValkeyConnections } from "../valkey/connections";

export type LimitedAction = "room_create" | "token_issue";

/** How long a limit check may wait for Valkey before the call is let through. */
export const CHECK_TIMEOUT_MS = 250;

/** `promise`, or a rejection after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Valkey did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RateLimitSettings {
  windowSeconds: number;
  roomCreates: number;
  livekitGrants: number;
}

/**
 * The counter key of one user and action: the user id is hashed from its exact code units ({@link exactKey}), so
 * braces (hash tags) or colons in it change nothing, and two ids that differ anywhere (a lone surrogate included,
 * which UTF-8 would have turned into U+FFFD) never share a bucket.
 */
export function rateLimitKey(userId: string, action: LimitedAction): string {
  return `ratelimit:{${exactKey([userId])}}:${action}`;
}

export class RateLimits {
  constructor(
    private readonly settings: RateLimitSettings,
    private readonly valkey: ValkeyConnections,
    private readonly metrics: AppMetrics,
    private readonly logger: Logger,
  ) {}

  /** Counts one call of `action` by `userId`; throws 429 (with Retry-After set on `res`) over the limit. */
  async take(userId: string, action: LimitedAction, res: ServerResponse): Promise<void> {
    const limit = action === "room_create" ? this.settings.roomCreates : this.settings.livekitGrants;
    const key = rateLimitKey(userId, action);
    const windowMs = this.settings.windowSeconds * 1000;
    let count: number;
    let remainingMs: number;
    try {
      const replies = await within(
        this.valkey.run((client) =>
          client
            .multi()
            .set(key, "0", { condition: "NX", expiration: { type: "PX", value: windowMs } })
            .incr(key)
            .pTTL(key)
            .exec(),
        ),
        CHECK_TIMEOUT_MS,
      );
      count = Number(replies[1]);
      remainingMs = Number(replies[2]);
    } catch (error) {
      this.metrics.rateLimitChecks.inc({ action, result: "unavailable" });
      this.logger.warn({ action, err: errorMessage(error) }, "rate limit not checked (Valkey unavailable): call let through");
      return;
    }
    if (count <= limit) {
      this.metrics.rateLimitChecks.inc({ action, result: "allowed" });
      return;
    }
    this.metrics.rateLimitChecks.inc({ action, result: "limited" });
    const retryAfter = Math.max(1, Math.ceil((remainingMs > 0 ? remainingMs : windowMs) / 1000));
    res.setHeader("retry-after", String(retryAfter));
    throw new HttpError(
      429,
      "rate_limited",
      `Too many ${action === "room_create" ? "rooms created" : "tokens requested"}: ` +
        `at most ${limit} per ${this.settings.windowSeconds} s per user; retry in ${retryAfter} s`,
    );
  }
}
