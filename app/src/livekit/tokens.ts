/**
 * LiveKit access tokens for a room, from the deployment the room is pinned to (room-pins.ts),
 * cached (token-cache.ts: in-process, then Valkey) for a quarter of their lifetime. Concurrent
 * misses for one key sign once (single flight). Cached tokens and pins of a deployment that turns
 * unhealthy are dropped on this instance.
 */
import { decodeJwt } from "jose";
import { AccessToken } from "livekit-server-sdk";
import type { User } from "../auth";
import type { LivekitDeployment } from "../config";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import type { ValkeyConnections } from "../valkey/connections";
import type { PIN_SCRIPTS } from "./pin-scripts";
import { grantsKey, type TokenGrants } from "./grants";
import type { LivekitHealth } from "./health";
import { RoomPins } from "./room-pins";
import { TokenCache, type CachedEntry, type TokenLookup } from "./token-cache";

export type { TokenGrants } from "./grants";

export interface IssuedToken {
  token: string;
  url: string;
  /** The deployment the token is for (the room's pinned deployment). */
  deployment: string;
  /** The same value as `deployment`, kept for clients written before it was added. */
  datacenter: string;
  expiresAt: string;
}

export interface LivekitTokenOptions {
  tokenTtlSeconds: number;
  /** How long an instance trusts its copy of a room's pin. */
  pinCacheMs: number;
}

export class LivekitTokens {
  private readonly byName: Map<string, LivekitDeployment>;
  private readonly pins: RoomPins;
  private readonly cache: TokenCache<IssuedToken>;
  private readonly inflight = new Map<string, Promise<IssuedToken>>();
  private readonly cacheMs: number;

  constructor(
    deployments: readonly LivekitDeployment[],
    health: LivekitHealth,
    valkey: ValkeyConnections<typeof PIN_SCRIPTS>,
    private readonly options: LivekitTokenOptions,
    logger: Logger,
    private readonly metrics: AppMetrics,
  ) {
    this.byName = new Map(deployments.map((d) => [d.name, d]));
    this.pins = new RoomPins(
      deployments.map((d) => d.name),
      health,
      valkey,
      { pinCacheMs: options.pinCacheMs },
      logger,
      metrics,
    );
    this.cache = new TokenCache<IssuedToken>(valkey, logger);
    this.cacheMs = Math.floor((options.tokenTtlSeconds * 1000) / 4);
    health.on("change", (name, healthy) => {
      if (healthy) return;
      this.cache.forgetDeployment(name);
      this.pins.forgetDeployment(name);
    });
  }

  async issue(roomId: string, user: User, grants: TokenGrants): Promise<IssuedToken> {
    const deployment = this.byName.get(await this.pins.deploymentFor(roomId)) as LivekitDeployment;
    const lookup: TokenLookup = {
      deployment: deployment.name,
      roomId,
      userId: user.id,
      userName: user.name,
      grants: grantsKey(grants),
    };
    const key = TokenCache.memoryKey(lookup);
    const cached = this.cache.fromMemory(key);
    if (cached !== undefined) {
      this.metrics.tokenCache.inc({ result: "hit_memory" });
      return cached;
    }
    let flight = this.inflight.get(key);
    if (flight === undefined) {
      flight = this.fill(key, lookup, deployment, user, grants).finally(() => this.inflight.delete(key));
      this.inflight.set(key, flight);
    } else {
      this.metrics.tokenCache.inc({ result: "coalesced" });
    }
    return flight;
  }

  private async fill(
    key: string,
    lookup: TokenLookup,
    deployment: LivekitDeployment,
    user: User,
    grants: TokenGrants,
  ): Promise<IssuedToken> {
    const stored = await this.cache.fromValkey(key, lookup);
    if (stored !== undefined) {
      this.metrics.tokenCache.inc({ result: "hit_redis" });
      // Entries cached by an instance from before the `deployment` field carry only `datacenter`.
      return stored.deployment === undefined ? { ...stored, deployment: stored.datacenter } : stored;
    }
    this.metrics.tokenCache.inc({ result: "miss" });
    const entry = await this.sign(deployment, lookup.roomId, user, grants);
    this.cache.store(key, lookup, entry);
    return entry.issued;
  }

  private async sign(deployment: LivekitDeployment, roomId: string, user: User, grants: TokenGrants): Promise<CachedEntry<IssuedToken>> {
    const signedAt = Date.now();
    const accessToken = new AccessToken(deployment.apiKey, deployment.apiSecret, {
      identity: user.id,
      name: user.name,
      ttl: this.options.tokenTtlSeconds,
    });
    accessToken.addGrant({ room: roomId, roomJoin: true, ...grants });
    const token = await accessToken.toJwt();
    this.metrics.tokensSigned.inc({ deployment: deployment.name });
    const exp = decodeJwt(token).exp;
    const expiresAt = exp !== undefined ? exp * 1000 : signedAt + this.options.tokenTtlSeconds * 1000;
    return {
      issued: {
        token,
        url: deployment.url,
        deployment: deployment.name,
        datacenter: deployment.name,
        expiresAt: new Date(expiresAt).toISOString(),
      },
      cachedUntil: signedAt + this.cacheMs,
    };
  }
}
