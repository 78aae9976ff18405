/**
 * Cached LiveKit tokens — the one module that reads and writes them in Valkey
 * (room:{id}:lktoken:<deployment>:<digest>), with an in-process layer in front.
 *
 * Entries are keyed by deployment + room + identity + name + grants, so a re-pinned room never gets
 * a token of its old deployment, and live for a quarter of the token's lifetime (set by the caller).
 * A memory hit answers without any I/O; Valkey failures are logged and count as misses.
 */
import type { Logger } from "../logger";
import { errorMessage } from "../errors";
import { codeUnitDigest } from "../ids";
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

  /**
   * The in-process key of a lookup (also names single-flight waits): the fields as a JSON array, so no field's
   * content can pass for a separator (a user "a\nb" named "c" and a user "a" named "b\nc" get different keys).
   * Starts with {@link deploymentPrefix} of the deployment.
   */
  static memoryKey(lookup: TokenLookup): string {
    return JSON.stringify([lookup.deployment, lookup.roomId, lookup.userId, lookup.userName, lookup.grants]);
  }

  /** How every memory key of a deployment starts. */
  static deploymentPrefix(deployment: string): string {
    return `[${JSON.stringify(deployment)},`;
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
    const prefix = TokenCache.deploymentPrefix(name);
    for (const key of this.memory.keys()) if (key.startsWith(prefix)) this.memory.delete(key);
  }

  private valkeyKey(key: string, lookup: TokenLookup): string {
    // The memory key is the fields' JSON array: its digest is ids.ts's exactKey of the lookup (exact code units,
    // where UTF-8 would have turned every lone surrogate into U+FFFD).
    const digest = codeUnitDigest(key).slice(0, 22);
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
