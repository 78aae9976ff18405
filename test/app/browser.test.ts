/**
 * A real browser (Debian's chromium, Google Chrome or $GOMEET_BROWSER: harness/browser.ts; driven by
 * puppeteer-core) against two app instances on real Valkey and PostgreSQL. A page from an allowed origin creates a room (a CORS preflight, then the POST), opens a
 * WebSocket, exchanges messages with a Node client on the other instance, and, once its instance is killed,
 * reconnects to the other one with `since` and receives what it missed. A page from another origin is
 * refused: its POST fails CORS (the preflight is answered 403) and its WebSocket upgrade is refused (403).
 */
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { startApp, type RunningApp } from "../../app/src/app";
import { findBrowser } from "../../harness/browser";
import { startBrowserPage, type BrowserPageServer } from "../../harness/browser-page";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres } from "../../harness/postgres";
import { onStopAll, stopAll, type ManagedProcess } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { addMember, api, appConfig, OpenClients, spawnApp, token, type Backends } from "./helpers";

let allowed: BrowserPageServer;
let other: BrowserPageServer;
let a: { process: ManagedProcess; url: string; metricsUrl: string };
let b: RunningApp;
let browser: Browser;
const clients = new OpenClients();

/** The in-page client's state (see harness/browser-page.ts). */
type PageClient = { frames: Array<Record<string, any>>; events: string[] };

beforeAll(async () => {
  const [redis, postgres, livekit, allowedPage, otherPage] = await Promise.all([
    startRedis(),
    startPostgres(),
    startLivekitStandIn("lk"),
    startBrowserPage(),
    startBrowserPage(),
  ]);
  [allowed, other] = [allowedPage, otherPage];
  const backends: Backends = { redisUrl: redis.url, databaseUrl: postgres.url, livekit: [livekit] };
  const env = { CORS_ALLOWED_ORIGINS: allowed.origin };
  [a, b] = await Promise.all([spawnApp(backends, "browser-a", env), startApp(appConfig(backends, "browser-b", env))]);
  browser = await puppeteer.launch({ executablePath: findBrowser(), headless: true, args: ["--no-sandbox"] });
  onStopAll(() => browser.close());
}, 90_000);

afterEach(() => clients.closeAll());

afterAll(async () => {
  await browser?.close();
  await b?.stop();
  await stopAll();
});

async function openPage(origin: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  return page;
}

/** Waits until `predicate` holds on the page's client state; returns its value. */
async function waitInPage<T>(page: Page, predicate: (client: PageClient) => T, timeoutMs = 10_000): Promise<T> {
  const handle = await page.waitForFunction(
    (source: string) => (0, eval)(source)((globalThis as any).gomeet),
    { timeout: timeoutMs, polling: 50 },
    `(${predicate.toString()})`,
  );
  return (await handle.jsonValue()) as T;
}

test("an allowed page: REST with CORS, WebSocket both ways, resume with since on the other instance after its own dies", async () => {
  const alice = await token("alice", { name: "Alice" });
  const bob = await token("bob", { name: "Bob" });
  const page = await openPage(allowed.origin);

  // POST with Authorization and a JSON body: the browser sends a preflight first, then the request.
  const created = await page.evaluate(
    (base, jwt) => (globalThis as any).gomeet.call(base, "POST", "/rooms", jwt, { name: "from the browser" }),
    a.url,
    alice,
  );
  expect(created).toMatchObject({ status: 201, body: { id: expect.any(String), name: "from the browser" } });
  const room = created.body.id as string;
  const read = await page.evaluate(
    (base, jwt, id) => (globalThis as any).gomeet.call(base, "GET", `/rooms/${id}`, jwt),
    b.url,
    alice,
    room,
  );
  expect(read).toMatchObject({ status: 200, body: { id: room } });
  await addMember(b.url, alice, room, "bob");

  await page.evaluate((base, id, jwt) => (globalThis as any).gomeet.open(base, id, jwt), a.url, room, alice);
  await waitInPage(page, (c) => c.frames.some((f) => f.type === "welcome"));
  const node = await clients.connect(b.url, room, bob);

  node.send("hello from node");
  await waitInPage(page, (c) => c.frames.some((f) => f.type === "message" && f.data === "hello from node"));
  await page.evaluate(() => (globalThis as any).gomeet.send("hello from the browser"));
  const fromBrowser = await node.next((f) => f.type === "message" && f.data === "hello from the browser");
  expect(fromBrowser.from).toMatchObject({ id: "alice", name: "Alice" });

  // Its own message comes back to it too (the acknowledgement, with the seq): the last seq it has seen.
  await waitInPage(page, (c) => c.frames.some((f) => f.type === "message" && f.data === "hello from the browser"));

  // The browser's instance dies; messages sent meanwhile are not lost to it.
  const lastSeq = (await page.evaluate(() => (globalThis as any).gomeet.lastSeq())) as number;
  await a.process.kill();
  await waitInPage(page, (c) => c.events.some((e) => e.startsWith("close")));
  for (const text of ["missed 1", "missed 2", "missed 3"]) node.send(text);
  await node.count((f) => f.type === "message" && String(f.data).startsWith("missed"), 3);

  await page.evaluate((base, id, jwt, since) => (globalThis as any).gomeet.open(base, id, jwt, since), b.url, room, alice, lastSeq);
  const resumed = await waitInPage(page, (c) => {
    const missed = c.frames.filter((f) => f.type === "message" && String(f.data).startsWith("missed"));
    return missed.length === 3 ? missed.map((f) => ({ seq: f.seq, data: f.data })) : undefined;
  });
  expect(resumed).toEqual([
    { seq: lastSeq + 1, data: "missed 1" },
    { seq: lastSeq + 2, data: "missed 2" },
    { seq: lastSeq + 3, data: "missed 3" },
  ]);
  const welcomes = await waitInPage(page, (c) =>
    c.frames.filter((f) => f.type === "welcome").map((f) => ({ instance: f.instance, recovered: f.recovered })),
  );
  expect(welcomes).toEqual([
    { instance: "browser-a", recovered: false },
    { instance: "browser-b", recovered: true },
  ]);
  // And it is live again.
  node.send("after the resume");
  await waitInPage(page, (c) => c.frames.some((f) => f.type === "message" && f.data === "after the resume"));
  await page.close();
}, 90_000);

test("a page from another origin is refused: its POST fails CORS (preflight 403) and its WebSocket upgrade is refused", async () => {
  const mallory = await token("mallory");
  const rooms = async () =>
    Number(
      /gomeet_http_requests_total\{[^}]*route="\/rooms"[^}]*status="403"[^}]*\} (\d+)/.exec(
        (await api(b.metricsUrl, "GET", "/metrics")).body,
      )?.[1] ?? 0,
    );
  const refusedBefore = await rooms();
  const page = await openPage(other.origin);

  const created = await page.evaluate(
    (base, jwt) => (globalThis as any).gomeet.call(base, "POST", "/rooms", jwt, { name: "must not exist" }),
    b.url,
    mallory,
  );
  expect(created).toEqual({ error: expect.stringMatching(/TypeError: Failed to fetch/) });
  expect(await rooms()).toBe(refusedBefore + 1); // the preflight, answered 403; the POST itself was never sent

  const room = (await api(b.url, "POST", "/rooms", { token: mallory, body: { name: "exists" } })).body.id as string;
  await page.evaluate((base, id, jwt) => (globalThis as any).gomeet.open(base, id, jwt), b.url, room, mallory);
  const events = await waitInPage(page, (c) => (c.events.some((e) => e.startsWith("close")) ? c.events : undefined));
  expect(events).not.toContain("open");
  expect(events).toContain("close 1006");
  await page.close();
}, 60_000);
