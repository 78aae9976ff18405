/**
 * Configuration: defaults, and an error that names each bad variable and what it accepts.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { loadServiceConfig } from "../../app/src/config";
import { configProblems } from "./config-problems";

const valid = {
  AUTH_JWT_SECRET: "s".repeat(32),
  REDIS_URL: "redis://127.0.0.1:6390",
  DATABASE_URL: "postgres://app@127.0.0.1:5433/gomeet",
  LIVEKIT_DATACENTERS: JSON.stringify([{ name: "ams3", url: "wss://lk-ams3.example.com", apiKey: "key", apiSecret: "secret" }]),
};

const problems = configProblems(valid);

test("defaults", () => {
  const config = loadServiceConfig(valid);
  expect(config).toMatchObject({
    port: 8080,
    host: "0.0.0.0",
    logLevel: "info",
    auth: { kind: "secret", secret: valid.AUTH_JWT_SECRET },
    databaseReplicaUrls: [],
    wsMaxFrameBytes: 65536,
    wsMaxMessagesPerSecond: 50,
    wsPublishBatchMs: 0,
    wsDeliveryBatchMs: 0,
    historyMaxLength: 1000,
    presenceTtlSeconds: 30,
    heartbeatIntervalMs: 10_000,
    livekitTokenTtlSeconds: 3600,
    shutdownDrainSeconds: 5,
  });
  expect(config.instanceId).toMatch(/^[A-Za-z0-9_.-]+$/);
  expect(config.livekitDeployments).toEqual([{ name: "ams3", url: "wss://lk-ams3.example.com", apiKey: "key", apiSecret: "secret" }]);
});

test("replica URLs are comma-separated and may be empty", () => {
  expect(loadServiceConfig({ ...valid, DATABASE_REPLICA_URLS: "" }).databaseReplicaUrls).toEqual([]);
  expect(loadServiceConfig({ ...valid, DATABASE_REPLICA_URLS: " postgres://r1/db , postgresql://r2:5432/db" }).databaseReplicaUrls).toEqual(
    ["postgres://r1/db", "postgresql://r2:5432/db"],
  );
});

test.each([
  [{ PORT: "http" }, "PORT must be an integer between 0 and 65535"],
  [{ PORT: "70000" }, "PORT must be an integer between 0 and 65535"],
  [{ REDIS_URL: undefined }, "REDIS_URL is required"],
  [{ REDIS_URL: "http://127.0.0.1:6379" }, "REDIS_URL must be a redis:// or rediss:// URL with a host"],
  [{ DATABASE_URL: "mysql://x/db" }, "DATABASE_URL must be a postgres:// or postgresql:// URL with a host"],
  [
    { DATABASE_REPLICA_URLS: "postgres://r1/db,nope" },
    "DATABASE_REPLICA_URLS (at 1) must be a postgres:// or postgresql:// URL with a host",
  ],
  [{ LIVEKIT_DATACENTERS: "[]" }, "LIVEKIT_DATACENTERS must be at least one {name, url, apiKey, apiSecret}"],
  [{ LIVEKIT_DATACENTERS: "{oops" }, "LIVEKIT_DATACENTERS must be a JSON array of {name, url, apiKey, apiSecret}"],
  [
    { LIVEKIT_DATACENTERS: '[{"name":"a","url":"https://lk","apiKey":"k","apiSecret":"s"}]' },
    "LIVEKIT_DATACENTERS (at 0.url) must be a ws:// or wss:// URL",
  ],
  [{ LIVEKIT_DATACENTERS: '[{"name":"a","url":"wss://lk","apiKey":"k"}]' }, "LIVEKIT_DATACENTERS (at 0.apiSecret) must be"],
  [
    {
      LIVEKIT_DATACENTERS:
        '[{"name":"a","url":"wss://x","apiKey":"k","apiSecret":"s"},{"name":"a","url":"wss://y","apiKey":"k","apiSecret":"s"}]',
    },
    "LIVEKIT_DATACENTERS must be unique deployment names",
  ],
  [{ AUTH_JWT_SECRET: "short" }, "AUTH_JWT_SECRET must be at least 32 characters (HS256 key)"],
  [{ AUTH_JWKS_URL: "https://id.example.com/jwks.json" }, "AUTH_JWT_SECRET / AUTH_JWKS_URL: set exactly one of them"],
  [{ AUTH_JWT_SECRET: undefined }, "AUTH_JWT_SECRET / AUTH_JWKS_URL: set exactly one of them"],
  [{ LOG_LEVEL: "loud" }, "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent"],
  [{ WS_MAX_MESSAGES_PER_SECOND: "0" }, "WS_MAX_MESSAGES_PER_SECOND must be an integer between 1 and 100000"],
  [{ WS_PUBLISH_BATCH_MS: "101" }, "WS_PUBLISH_BATCH_MS must be an integer between 0 and 100"],
  [{ WS_DELIVERY_BATCH_MS: "-1" }, "WS_DELIVERY_BATCH_MS must be an integer between 0 and 100"],
  [{ INSTANCE_ID: "pod name with spaces" }, "INSTANCE_ID must be 1-128 characters of A-Z a-z 0-9 _ . -"],
  [{ PRESENCE_TTL_SECONDS: "5", HEARTBEAT_INTERVAL_MS: "10000" }, "PRESENCE_TTL_SECONDS must be longer than HEARTBEAT_INTERVAL_MS"],
])("%j → %s", (env, expected) => {
  const found = problems(env);
  expect(found).toEqual([expect.stringContaining(expected)]);
});

test("every bad variable is reported at once", () => {
  expect(problems({ PORT: "x", REDIS_URL: "nope", HISTORY_MAX_LENGTH: "-1" }).map((p) => p.split(" ")[0])).toEqual([
    "PORT",
    "REDIS_URL",
    "HISTORY_MAX_LENGTH",
  ]);
});

test("JWKS instead of a secret", () => {
  const config = loadServiceConfig({ ...valid, AUTH_JWT_SECRET: "", AUTH_JWKS_URL: "https://id.example.com/.well-known/jwks.json" });
  expect(config.auth).toEqual({ kind: "jwks", jwksUrl: "https://id.example.com/.well-known/jwks.json" });
});

test("the entry point prints the problem and exits 1 on a bad configuration", () => {
  const result = spawnSync(process.execPath, ["--import", "tsx", path.resolve(__dirname, "../../app/src/main.ts")], {
    env: { PATH: process.env.PATH, ...valid, PORT: "not-a-port" },
    encoding: "utf8",
    timeout: 20_000,
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("PORT must be an integer between 0 and 65535");
});
