/**
 * Cached LiveKit tokens — the one module that reads and writes them in Valkey
 * (room:{id}:lktoken:<deployment>:<digest>), with an in-process layer in front.
 *
 * Entries are keyed by deployment + room + identity + name + grants, so a re-pinned room never gets
 * a token of its old deployment, and live for a quarter of the token's lifetime (set by the caller).
 * A memory hit answers without any I/O; Valkey failures are logged and count as misses.
 */
import { createHash } from "node:crypto";
import type { Logger } from "../logger";
import { errorMessage } from "../errors";
import type { ValkeyConnections } from "../valkey/connections";
import { roomKey } from "../valkey/keys";

/** A cached LiveKit token for one deployment + room + identity/grants digest. */
export function tokenCacheKey(roomId: string, deployment: string, digest: string): string {
  return roomKey(roomId, `lktoken:${deployment}:${digest}`);
}

/** What is cached: the response, and until when (ms since the epoch) it may be handed out. */
export interface CachedEntry<T> {
  issued: T;
  cachedUntil: number;
}

/** Who a token is for; two requests with equal lookups get the same token. */
export interface TokenLookup {
  deployment: string;
  roomId: string;
  userId: string;
  userName: string;
  /** The grants as a short stable string. */
  grants: string;
}

const MEMORY_MAX_ENTRIES = 100_000;

export class TokenCache<T> {
  private readonly memory = new Map<string, CachedEntry<T>>();

  constructor(
    private readonly valkey: ValkeyConnections,
    private readonly logger: Logger,
  ) {}

  /** The in-process key of a lookup (also names single-flight waits). Starts with the deployment name and a newline. */
  static memoryKey(lookup: TokenLookup): string {
    return `${lookup.deployment}\n${lookup.roomId}\n${lookup.userId}\n${lookup.userName}\n${lookup.grants}`;
  }

  /** An unexpired entry from this instance's memory. */
  fromMemory(key: string): T | undefined {
    const cached = this.memory.get(key);
    return cached !== undefined && cached.cachedUntil > Date.now() ? cached.issued : undefined;
  }

  /** An unexpired entry from Valkey (remembered in memory too); undefined on a miss or when Valkey is away. */
  async fromValkey(key: string, lookup: TokenLookup): Promise<T | undefined> {
    try {
      const stored = await this.valkey.run((c) => c.get(this.valkeyKey(key, lookup)));
      if (stored === null) return undefined;
      const entry = JSON.parse(stored) as CachedEntry<T>;
      if (entry.cachedUntil <= Date.now()) return undefined;
      this.remember(key, entry);
      return entry.issued;
    } catch (error) {
      this.logger.debug({ err: errorMessage(error) }, "token cache read from Valkey failed; signing");
      return undefined;
    }
  }

  /** Stores the entry in memory now and in Valkey in the background (a failed write is logged). */
  store(key: string, lookup: TokenLookup, entry: CachedEntry<T>): void {
    this.remember(key, entry);
    this.valkey
      .run((c) =>
        c.set(this.valkeyKey(key, lookup), JSON.stringify(entry), {
          expiration: { type: "PX", value: Math.max(1, entry.cachedUntil - Date.now()) },
        }),
      )
      .catch((error: unknown) => this.logger.debug({ err: errorMessage(error) }, "token cache write to Valkey failed"));
  }

  /** The deployment turned unhealthy: its entries in memory are dropped (Valkey's expire on their own). */
  forgetDeployment(name: string): void {
    const prefix = `${name}\n`;
    for (const key of this.memory.keys()) if (key.startsWith(prefix)) this.memory.delete(key);
  }

  private valkeyKey(key: string, lookup: TokenLookup): string {
    const digest = createHash("sha256").update(key).digest("base64url").slice(0, 22);
    return tokenCacheKey(lookup.roomId, lookup.deployment, digest);
  }

  private remember(key: string, entry: CachedEntry<T>): void {
    if (this.memory.size >= MEMORY_MAX_ENTRIES) {
      const oldest = this.memory.keys().next().value;
      if (oldest !== undefined) this.memory.delete(oldest);
    }
    this.memory.set(key, entry);
  }
}
