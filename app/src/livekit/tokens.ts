/**
 * LiveKit access tokens for a room, from the deployment the room is pinned to.
 *
 * Pinning: the room's deployment is kept in Valkey (room:{id}:livekit), chosen atomically: kept
 * while healthy, else moved to the next healthy deployment in configuration order (one script,
 * so concurrent requests on any instance agree). Each instance remembers a pin for at most one
 * health interval, so the common path needs no Valkey round trip.
 *
 * Cache: in-process, then Valkey; keyed by deployment + room + identity + name + grants, so a
 * re-pinned room never gets a token of its old deployment; entries live a quarter of the token's
 * lifetime; in-process entries of a deployment that turns unhealthy are dropped. Concurrent misses
 * for one key sign once (single flight). A memory hit answers without any I/O.
 */
import { createHash } from "node:crypto";
import { decodeJwt } from "jose";
import { AccessToken } from "livekit-server-sdk";
import type { User } from "../auth";
import type { LivekitDatacenter } from "../config";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { DependencyUnavailableError, errorMessage } from "../errors";
import { roomKeys, tokenCacheKey } from "../redis/keys";
import type { RedisConnections } from "../redis/connections";
import type { LivekitHealth } from "./health";

export interface TokenGrants {
  canPublish: boolean;
  canSubscribe: boolean;
  canPublishData: boolean;
}

export interface IssuedToken {
  token: string;
  url: string;
  datacenter: string;
  expiresAt: string;
}

export interface LivekitTokenOptions {
  tokenTtlSeconds: number;
  /** How long an instance trusts its copy of a room's pin. */
  pinCacheMs: number;
}

interface CachedToken {
  issued: IssuedToken;
  cachedUntil: number;
}

/** Pins outlive idle rooms by a day; refreshed on every lookup that reaches Valkey. */
const PIN_TTL_MS = 24 * 60 * 60 * 1000;
const MEMORY_MAX_ENTRIES = 100_000;
const PIN_CACHE_MAX_ENTRIES = 100_000;

export class LivekitTokens {
  private readonly byName: Map<string, LivekitDatacenter>;
  private readonly pins = new Map<string, { datacenter: string; until: number }>();
  private readonly memory = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<IssuedToken>>();
  private readonly cacheMs: number;

  constructor(
    private readonly datacenters: readonly LivekitDatacenter[],
    private readonly health: LivekitHealth,
    private readonly redis: RedisConnections,
    private readonly options: LivekitTokenOptions,
    private readonly logger: Logger,
    private readonly metrics: AppMetrics,
  ) {
    this.byName = new Map(datacenters.map((dc) => [dc.name, dc]));
    this.cacheMs = Math.floor((options.tokenTtlSeconds * 1000) / 4);
    health.on("change", (name, healthy) => {
      if (!healthy) this.forgetDatacenter(name);
    });
  }

  async issue(roomId: string, user: User, grants: TokenGrants): Promise<IssuedToken> {
    const datacenter = this.cachedPin(roomId) ?? (await this.pin(roomId));
    const grantsKey = `${grants.canPublish ? 1 : 0}${grants.canSubscribe ? 1 : 0}${grants.canPublishData ? 1 : 0}`;
    const key = `${datacenter.name}\n${roomId}\n${user.id}\n${user.name}\n${grantsKey}`;
    const cached = this.memory.get(key);
    if (cached !== undefined && cached.cachedUntil > Date.now()) {
      this.metrics.tokenCache.inc({ result: "hit_memory" });
      return cached.issued;
    }
    let flight = this.inflight.get(key);
    if (flight === undefined) {
      flight = this.fill(key, datacenter, roomId, user, grants).finally(() => this.inflight.delete(key));
      this.inflight.set(key, flight);
    } else {
      this.metrics.tokenCache.inc({ result: "coalesced" });
    }
    return flight;
  }

  /** The deployment the room is pinned to, if this instance knows it and it is still healthy. */
  private cachedPin(roomId: string): LivekitDatacenter | undefined {
    const pin = this.pins.get(roomId);
    if (pin === undefined || pin.until <= Date.now() || !this.health.isHealthy(pin.datacenter)) return undefined;
    return this.byName.get(pin.datacenter);
  }

  private async pin(roomId: string): Promise<LivekitDatacenter> {
    const order = this.datacenters.map((dc) => ({ name: dc.name, healthy: this.health.isHealthy(dc.name) }));
    const firstHealthy = order.find((dc) => dc.healthy);
    if (firstHealthy === undefined) throw new DependencyUnavailableError("livekit_unavailable", "No LiveKit deployment is healthy");
    let chosen: string;
    try {
      const reply = await this.redis.run((c) => c.pinDeployment({ keys: roomKeys(roomId), ttlMs: PIN_TTL_MS, order }));
      if (reply.deployment === "") throw new DependencyUnavailableError("livekit_unavailable", "No LiveKit deployment is healthy");
      chosen = reply.deployment;
      if (reply.movedFrom !== undefined) {
        this.metrics.roomRepins.inc();
        this.logger.warn({ room: roomId, from: reply.movedFrom, to: chosen }, "room re-pinned to another LiveKit deployment");
      }
    } catch (error) {
      if (error instanceof DependencyUnavailableError) throw error;
      // Valkey is away: every instance falls back to the same choice (the first healthy deployment).
      this.logger.warn({ room: roomId, err: errorMessage(error) }, "room pin unavailable; using the first healthy LiveKit deployment");
      chosen = firstHealthy.name;
    }
    if (this.pins.size >= PIN_CACHE_MAX_ENTRIES) this.pins.clear();
    this.pins.set(roomId, { datacenter: chosen, until: Date.now() + this.options.pinCacheMs });
    return this.byName.get(chosen) as LivekitDatacenter;
  }

  private async fill(key: string, dc: LivekitDatacenter, roomId: string, user: User, grants: TokenGrants): Promise<IssuedToken> {
    const digest = createHash("sha256").update(key).digest("base64url").slice(0, 22);
    const redisKey = tokenCacheKey(roomId, dc.name, digest);
    try {
      const stored = await this.redis.run((c) => c.get(redisKey));
      if (stored !== null) {
        const entry = JSON.parse(stored) as CachedToken;
        if (entry.cachedUntil > Date.now()) {
          this.metrics.tokenCache.inc({ result: "hit_redis" });
          this.remember(key, entry);
          return entry.issued;
        }
      }
    } catch (error) {
      this.logger.debug({ err: errorMessage(error) }, "token cache read from Valkey failed; signing");
    }
    this.metrics.tokenCache.inc({ result: "miss" });
    const entry = await this.sign(dc, roomId, user, grants);
    this.remember(key, entry);
    this.redis
      .run((c) => c.set(redisKey, JSON.stringify(entry), { expiration: { type: "PX", value: Math.max(1, entry.cachedUntil - Date.now()) } }))
      .catch((error: unknown) => this.logger.debug({ err: errorMessage(error) }, "token cache write to Valkey failed"));
    return entry.issued;
  }

  private async sign(dc: LivekitDatacenter, roomId: string, user: User, grants: TokenGrants): Promise<CachedToken> {
    const signedAt = Date.now();
    const accessToken = new AccessToken(dc.apiKey, dc.apiSecret, { identity: user.id, name: user.name, ttl: this.options.tokenTtlSeconds });
    accessToken.addGrant({ room: roomId, roomJoin: true, ...grants });
    const token = await accessToken.toJwt();
    this.metrics.tokensSigned.inc({ datacenter: dc.name });
    const exp = decodeJwt(token).exp;
    const expiresAt = exp !== undefined ? exp * 1000 : signedAt + this.options.tokenTtlSeconds * 1000;
    return { issued: { token, url: dc.url, datacenter: dc.name, expiresAt: new Date(expiresAt).toISOString() }, cachedUntil: signedAt + this.cacheMs };
  }

  private remember(key: string, entry: CachedToken): void {
    if (this.memory.size >= MEMORY_MAX_ENTRIES) {
      const oldest = this.memory.keys().next().value;
      if (oldest !== undefined) this.memory.delete(oldest);
    }
    this.memory.set(key, entry);
  }

  /** A deployment turned unhealthy: its cached tokens and the pins to it are dropped here. */
  private forgetDatacenter(name: string): void {
    const prefix = `${name}\n`;
    for (const key of this.memory.keys()) if (key.startsWith(prefix)) this.memory.delete(key);
    for (const [roomId, pin] of this.pins) if (pin.datacenter === name) this.pins.delete(roomId);
  }
}
