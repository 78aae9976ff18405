/**
 * Verified TLS to the databases, against a real PostgreSQL and a real redis-server serving TLS with
 * certificates from a CA this test makes (openssl): with the right CA the app connects and works; with
 * another CA, or a certificate for another host, it refuses, and its error (start-up failure or /readyz)
 * says which certificate check failed and which variable holds the CA.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { Client } from "pg";
import { startApp, type RunningApp } from "../../app/src/app";
import { startLivekitStandIn, type LivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres, type PgNode } from "../../harness/postgres";
import { stopAll, tempDir } from "../../harness/process";
import { startTlsRedis, type TlsRedisServer } from "../../harness/redis";
import { createCertificateAuthority, issueServerCertificate, type CertificateAuthority } from "../../harness/tls";
import { api, appConfig, createRoom, OpenClients, token } from "./helpers";

let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let postgres: PgNode;
let misnamedPostgres: PgNode;
let plainPostgres: PgNode;
let redis: TlsRedisServer;
let livekit: LivekitStandIn;
let wrongCaFile: string;
const clients = new OpenClients();

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([createCertificateAuthority("gomeet-test-ca"), createCertificateAuthority("impostor-ca")]);
  const [serverTls, misnamedTls] = await Promise.all([
    issueServerCertificate(ca, "db", ["127.0.0.1", "localhost"]),
    issueServerCertificate(ca, "elsewhere", ["db.elsewhere.example"]),
  ]);
  [postgres, misnamedPostgres, plainPostgres, redis, livekit] = await Promise.all([
    startPostgres({ tls: serverTls }),
    startPostgres({ tls: misnamedTls }),
    startPostgres(),
    startTlsRedis(serverTls),
    startLivekitStandIn("lk"),
  ]);
  const dir = await tempDir("tls-test");
  wrongCaFile = path.join(dir, "wrong-ca.crt");
  await fs.copyFile(otherCa.certFile, wrongCaFile);
}, 90_000);

afterEach(() => clients.closeAll());
afterAll(stopAll);

const backends = (over: { redisUrl?: string; databaseUrl?: string; replicaUrls?: string[] } = {}) => ({
  redisUrl: redis.tlsUrl,
  databaseUrl: `${postgres.url}?sslmode=require`,
  livekit: [livekit],
  ...over,
});

async function startupError(config: Parameters<typeof startApp>[0]): Promise<string> {
  let app: RunningApp | undefined;
  try {
    app = await startApp(config);
  } catch (error) {
    return (error as Error).message;
  }
  await app.stop();
  throw new Error("the app started");
}

test("with the right CA for both, the app connects over verified TLS and works (REST, WebSocket, Valkey)", async () => {
  const app = await startApp(appConfig(backends(), "tls-ok", { DATABASE_CA_FILE: ca.certFile, REDIS_CA_FILE: ca.certFile }));
  try {
    expect(app.readiness().status).toBe("healthy");
    const alice = await token("alice");
    const room = await createRoom(app.url, alice);
    const client = await clients.connect(app.url, room, alice);
    client.send("over TLS");
    expect((await client.next((f) => f.type === "message")).data).toBe("over TLS");
    // The server saw TLS connections from the app, not plain ones.
    const admin = new Client({ connectionString: postgres.url });
    await admin.connect();
    try {
      const rows = await admin.query<{ ssl: boolean }>(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'gomeet-app'",
      );
      expect(rows.rows.length).toBeGreaterThan(0);
      expect(rows.rows.every((r) => r.ssl)).toBe(true);
    } finally {
      await admin.end();
    }
  } finally {
    await app.stop();
  }
}, 60_000);

test("PostgreSQL with a certificate from another CA: the start fails naming the certificate problem and DATABASE_CA_FILE", async () => {
  const message = await startupError(
    appConfig(backends(), "tls-pg-wrong-ca", { DATABASE_CA_FILE: wrongCaFile, REDIS_CA_FILE: ca.certFile }),
  );
  expect(message).toMatch(
    /^TLS: PostgreSQL 127\.0\.0\.1:\d+\/gomeet presents a certificate not signed by the configured CA \(DATABASE_CA_FILE\)/,
  );
  expect(message).toContain("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
}, 60_000);

test("Valkey with a certificate from another CA: the start fails naming the certificate problem and REDIS_CA_FILE", async () => {
  const message = await startupError(
    appConfig(backends(), "tls-redis-wrong-ca", { DATABASE_CA_FILE: ca.certFile, REDIS_CA_FILE: wrongCaFile }),
  );
  expect(message).toMatch(/^TLS: Valkey 127\.0\.0\.1:\d+ presents a certificate not signed by the configured CA \(REDIS_CA_FILE\)/);
}, 60_000);

test("a certificate from the right CA but for another host is refused (verify-full checks the name); /readyz says why", async () => {
  const misnamed = `postgres://postgres@127.0.0.1:${misnamedPostgres.port}/gomeet?sslmode=require`;
  expect(
    await startupError(
      appConfig(backends({ databaseUrl: misnamed }), "tls-pg-host", { DATABASE_CA_FILE: ca.certFile, REDIS_CA_FILE: ca.certFile }),
    ),
  ).toMatch(
    new RegExp(
      "^TLS: PostgreSQL 127\\.0\\.0\\.1:\\d+/gomeet presents a certificate that does not name the host connected to " +
        "\\(DATABASE_CA_FILE\\): ERR_TLS_CERT_ALTNAME_INVALID",
    ),
  );
  // As a replica, the misnamed server is only unready: the instance serves from the primary and /readyz names the problem.
  const app = await startApp(
    appConfig(backends({ replicaUrls: [misnamed] }), "tls-replica-host", { DATABASE_CA_FILE: ca.certFile, REDIS_CA_FILE: ca.certFile }),
  );
  try {
    const readyz = await api(app.metricsUrl, "GET", "/readyz");
    expect(readyz.status).toBe(200);
    expect(readyz.body.dependencies.postgres.replicas[0]).toMatchObject({
      healthy: false,
      error: expect.stringMatching(/^TLS: .* presents a certificate that does not name the host connected to/),
    });
  } finally {
    await app.stop();
  }
}, 60_000);

test("a PostgreSQL server without TLS is refused once a CA is configured (no silent fallback to plain text)", async () => {
  const plainPg = await startupError(
    appConfig(backends({ databaseUrl: plainPostgres.url }), "tls-pg-plain", { DATABASE_CA_FILE: ca.certFile, REDIS_CA_FILE: ca.certFile }),
  );
  expect(plainPg).toMatch(/does not support SSL/i);
}, 60_000);
