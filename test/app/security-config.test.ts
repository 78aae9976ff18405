/**
 * The security settings of the app's configuration: CORS origins, the databases' CA files, rate limits.
 * Each bad value is a ServiceConfigError naming the variable and the bad item.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadServiceConfig } from "../../app/src/config";
import { configProblems } from "./config-problems";

const valid = {
  AUTH_JWT_SECRET: "s".repeat(32),
  REDIS_URL: "rediss://127.0.0.1:6390",
  DATABASE_URL: "postgres://app@127.0.0.1:5433/gomeet?sslmode=require",
  LIVEKIT_DATACENTERS: JSON.stringify([{ name: "ams3", url: "wss://lk-ams3.example.com", apiKey: "key", apiSecret: "secret" }]),
};

const problems = configProblems(valid);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-config-"));
  fs.writeFileSync(path.join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  fs.writeFileSync(path.join(dir, "not-a-cert.pem"), "hello");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("defaults: no origin allowed, no CA (the URLs' own TLS settings), 20 rooms and 120 tokens per user per minute", () => {
  const config = loadServiceConfig(valid);
  expect(config.corsAllowedOrigins).toEqual([]);
  expect(config.databaseCaCert).toBeUndefined();
  expect(config.valkeyCaCert).toBeUndefined();
  expect(config.rateLimits).toEqual({ windowSeconds: 60, roomCreates: 20, livekitGrants: 120 });
});

test("CORS_ALLOWED_ORIGINS: exact origins, comma-separated, in the form browsers send them", () => {
  const config = loadServiceConfig({
    ...valid,
    CORS_ALLOWED_ORIGINS: " https://App.Example.com ,http://127.0.0.1:5173,https://x.example:443,, https://app.example.com",
  });
  expect(config.corsAllowedOrigins).toEqual(["https://app.example.com", "http://127.0.0.1:5173", "https://x.example"]);
  expect(loadServiceConfig({ ...valid, CORS_ALLOWED_ORIGINS: "" }).corsAllowedOrigins).toEqual([]);
});

test.each([
  ["*"],
  ["https://app.example.com/"],
  ["https://app.example.com/path"],
  ["https://app.example.com?x=1"],
  ["https://user@app.example.com"],
  ["app.example.com"],
  ["ftp://app.example.com"],
  ["null"],
])("CORS_ALLOWED_ORIGINS refuses %s, naming it", (bad) => {
  expect(problems({ CORS_ALLOWED_ORIGINS: `https://ok.example, ${bad}` })).toEqual([
    `CORS_ALLOWED_ORIGINS must be a comma-separated list of exact origins; "${bad}" is not an origin: ` +
      "expected scheme://host[:port] (http or https) with no path, query, fragment or credentials",
  ]);
});

test("DATABASE_CA_FILE / REDIS_CA_FILE: the PEM is read once; a missing or non-PEM file names the variable and the file", () => {
  const ca = path.join(dir, "ca.pem");
  const config = loadServiceConfig({ ...valid, DATABASE_CA_FILE: ca, REDIS_CA_FILE: ca });
  expect(config.databaseCaCert).toContain("BEGIN CERTIFICATE");
  expect(config.valkeyCaCert).toBe(config.databaseCaCert);
  const missing = path.join(dir, "missing.pem");
  expect(problems({ DATABASE_CA_FILE: missing })).toEqual([
    `DATABASE_CA_FILE must be a readable PEM file of CA certificates (${missing}: ENOENT)`,
  ]);
  const notCert = path.join(dir, "not-a-cert.pem");
  expect(problems({ REDIS_CA_FILE: notCert })).toEqual([
    `REDIS_CA_FILE must be a PEM file of CA certificates (${notCert} holds no "-----BEGIN CERTIFICATE-----")`,
  ]);
});

test("a CA contradicts a URL without TLS", () => {
  const ca = path.join(dir, "ca.pem");
  expect(problems({ REDIS_CA_FILE: ca, REDIS_URL: "redis://127.0.0.1:6390" })).toEqual([
    "REDIS_URL must be a rediss:// URL when REDIS_CA_FILE is set (the CA verifies a TLS connection)",
  ]);
  expect(problems({ DATABASE_CA_FILE: ca, DATABASE_REPLICA_URLS: "postgres://r/db?sslmode=disable" })).toEqual([
    "DATABASE_URL / DATABASE_REPLICA_URLS: sslmode=disable contradicts DATABASE_CA_FILE (which makes every connection verify-full)",
  ]);
});

test.each([
  [{ RATE_LIMIT_WINDOW_SECONDS: "0" }, "RATE_LIMIT_WINDOW_SECONDS must be an integer between 1 and 3600"],
  [{ RATE_LIMIT_ROOM_CREATES: "many" }, "RATE_LIMIT_ROOM_CREATES must be an integer between 1 and 1000000"],
  [{ RATE_LIMIT_LIVEKIT_GRANTS: "-1" }, "RATE_LIMIT_LIVEKIT_GRANTS must be an integer between 1 and 1000000"],
])("rate limits: %o", (env, expected) => {
  expect(problems(env)).toEqual([expected]);
});
