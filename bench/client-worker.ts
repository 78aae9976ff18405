/**
 * A client worker process (forked by workers.ts): holds WebSocket / Socket.IO connections, sends
 * fan-out messages at a fixed rate, measures end-to-end latency, and drives HTTP load (worker-http-load.ts).
 * It answers the requests of worker-protocol.ts over IPC and exits when its parent goes away.
 */
import { performance } from "node:perf_hooks";
import { io, type Socket as IoSocket } from "socket.io-client";
import WebSocket from "ws";
import { LatencyHistogram } from "./histogram";
import { httpLoad } from "./worker-http-load";
import { jwtFor } from "./worker-jwt";
import { encodePayload, sentAtOfBytes, sentAtOfPayload } from "./payload";
import {
  WORKER_READY,
  type ConnectionSpec,
  type CountsReply,
  type Envelope,
  type OpenReply,
  type OpenRequest,
  type ClientKind,
  type WindowReport,
  type WorkerReply,
  type WorkerRequest,
} from "./worker-protocol";

/** A tick of the sender may catch up at most this much time's worth of messages (after a stall). */
const MAX_CATCH_UP_SECONDS = 0.1;
const MAX_ERRORS_KEPT = 5;
/** `{"type":"` is 9 bytes: the next byte tells a GoMeet welcome ("w") from other frames. */
const TYPE_BYTE = 9;
const LOWERCASE_W = 0x77;

interface RoomMembers {
  open: number;
}

interface Client {
  room: RoomMembers;
  open: boolean;
  send(payload: string): void;
  close(): void;
  closed: Promise<void>;
}

const rooms = new Map<string, RoomMembers>();
const clients: Client[] = [];
const latency = new LatencyHistogram();
const errors: string[] = [];
let closingAll = false;

const totals = { sent: 0, expected: 0, received: 0 };
const windowCounts = { sent: 0, received: 0, unexpectedCloses: 0 };
let windowCpu = process.cpuUsage();

function noteError(message: string): void {
  if (errors.length < MAX_ERRORS_KEPT && !errors.includes(message)) errors.push(message);
}

function onDelivery(sentAt: number): void {
  if (Number.isNaN(sentAt)) return;
  totals.received++;
  windowCounts.received++;
  latency.record(performance.now() - sentAt);
}

function roomMembers(room: string): RoomMembers {
  let members = rooms.get(room);
  if (members === undefined) {
    members = { open: 0 };
    rooms.set(room, members);
  }
  return members;
}

/** Resolves once `ready` fires; rejects on error, early close or timeout, and closes what it opened. */
function whenReady(
  attach: (ready: () => void, fail: (error: Error) => void) => void,
  abort: () => void,
  timeoutMs: number,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`${what}: not ready within ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abort();
      reject(error);
    }
    attach(() => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve();
    }, fail);
  });
}

/** Registers an opened client: counts it in its room until it closes. */
function track(client: Client): void {
  client.open = true;
  client.room.open++;
  clients.push(client);
}

function closedHandler(client: { open: boolean; room: RoomMembers }, resolveClosed: () => void): () => void {
  return () => {
    if (client.open) {
      client.open = false;
      client.room.open--;
      if (!closingAll) windowCounts.unexpectedCloses++;
    }
    resolveClosed();
  };
}

async function openWs(spec: ConnectionSpec, system: "gomeet" | "raw", timeoutMs: number): Promise<void> {
  let url: string;
  if (system === "gomeet") {
    const target = new URL("/ws", spec.server.replace(/^http/, "ws"));
    target.searchParams.set("room", spec.room);
    target.searchParams.set("access_token", await jwtFor(spec.user));
    url = target.toString();
  } else {
    url = `${spec.server}/?room=${encodeURIComponent(spec.room)}`;
  }
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const raw = system === "raw";
  let resolveClosed!: () => void;
  const client: Client = {
    room: roomMembers(spec.room),
    open: false,
    send: raw ? (payload) => ws.send(payload) : (payload) => ws.send(`{"type":"message","data":"${payload}"}`),
    close: () => ws.close(),
    closed: new Promise((resolve) => (resolveClosed = resolve)),
  };
  ws.on("close", closedHandler(client, resolveClosed));
  await whenReady(
    (ready, fail) => {
      ws.on("error", (error) => fail(error));
      ws.on("unexpected-response", (_req, res) => fail(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
      ws.on("close", (code) => fail(new Error(`closed with ${code} before it was ready`)));
      if (raw) {
        ws.once("open", ready);
        return;
      }
      const onWelcome = (data: Buffer): void => {
        if (data[TYPE_BYTE] !== LOWERCASE_W) return;
        ws.off("message", onWelcome);
        ready();
      };
      ws.on("message", onWelcome);
    },
    () => ws.terminate(),
    timeoutMs,
    `${system} ${spec.server} room ${spec.room}`,
  );
  ws.on("message", (data: Buffer) => onDelivery(sentAtOfBytes(data, raw)));
  ws.on("error", (error) => noteError(`${system}: ${error.message}`));
  track(client);
}

async function openSocketIo(spec: ConnectionSpec, timeoutMs: number): Promise<void> {
  const socket: IoSocket = io(spec.server, {
    transports: ["websocket"],
    query: { room: spec.room },
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  });
  let resolveClosed!: () => void;
  const client: Client = {
    room: roomMembers(spec.room),
    open: false,
    send: (payload) => socket.emit("message", payload),
    close: () => socket.disconnect(),
    closed: new Promise((resolve) => (resolveClosed = resolve)),
  };
  socket.on("disconnect", closedHandler(client, resolveClosed));
  await whenReady(
    (ready, fail) => {
      socket.once("connect", ready);
      socket.once("connect_error", (error: Error) => fail(error));
    },
    () => socket.disconnect(),
    timeoutMs,
    `socket.io ${spec.server} room ${spec.room}`,
  );
  socket.on("message", (payload: string) => onDelivery(sentAtOfPayload(payload)));
  track(client);
}

function openOne(system: ClientKind, spec: ConnectionSpec, timeoutMs: number): Promise<void> {
  return system === "socketio" ? openSocketIo(spec, timeoutMs) : openWs(spec, system, timeoutMs);
}

async function open(request: OpenRequest): Promise<OpenReply> {
  const started = performance.now();
  let next = 0;
  let opened = 0;
  let failed = 0;
  const failures: string[] = [];
  const runner = async (): Promise<void> => {
    while (next < request.connections.length) {
      const spec = request.connections[next++] as ConnectionSpec;
      try {
        await openOne(request.system, spec, request.timeoutMs);
        opened++;
      } catch (error) {
        failed++;
        const message = error instanceof Error ? error.message : String(error);
        if (failures.length < MAX_ERRORS_KEPT && !failures.includes(message)) failures.push(message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(request.concurrency, request.connections.length)) }, runner));
  return { opened, failed, errors: failures, ms: performance.now() - started };
}

let sender: { rate: number; startedAt: number; sent: number; cursor: number; timer: NodeJS.Timeout | undefined } | undefined;

function sendTick(): void {
  const s = sender;
  if (s === undefined) return;
  const now = performance.now();
  let due = Math.floor(((now - s.startedAt) / 1000) * s.rate) - s.sent;
  const cap = Math.max(1, Math.ceil(s.rate * MAX_CATCH_UP_SECONDS));
  if (due > cap) {
    // The worker stalled: skip what it could not send in time rather than bursting it (shows as a lower sent rate).
    s.sent += due - cap;
    due = cap;
  }
  for (let i = 0; i < due; i++) {
    s.sent++;
    let client: Client | undefined;
    for (let tries = 0; tries < clients.length; tries++) {
      const candidate = clients[s.cursor++ % clients.length] as Client;
      if (candidate.open) {
        client = candidate;
        break;
      }
    }
    if (client === undefined) break;
    client.send(encodePayload(performance.now()));
    totals.sent++;
    totals.expected += client.room.open;
    windowCounts.sent++;
  }
  s.timer = setTimeout(sendTick, 1);
}

function startSending(rate: number): void {
  stopSending();
  if (rate <= 0) return;
  sender = { rate, startedAt: performance.now(), sent: 0, cursor: 0, timer: undefined };
  sender.timer = setTimeout(sendTick, 1);
}

function stopSending(): void {
  if (sender?.timer !== undefined) clearTimeout(sender.timer);
  sender = undefined;
}

function mark(): void {
  latency.reset();
  windowCounts.sent = 0;
  windowCounts.received = 0;
  windowCounts.unexpectedCloses = 0;
  errors.length = 0;
  windowCpu = process.cpuUsage();
}

function report(): WindowReport {
  const cpu = process.cpuUsage(windowCpu);
  return {
    sent: windowCounts.sent,
    received: windowCounts.received,
    latency: latency.toSparse(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    unexpectedCloses: windowCounts.unexpectedCloses,
    errors: [...errors],
  };
}

function counts(): CountsReply {
  return { ...totals, open: clients.filter((c) => c.open).length };
}

async function closeAll(timeoutMs: number): Promise<{ closed: number; left: number }> {
  stopSending();
  closingAll = true;
  const open = clients.filter((c) => c.open);
  for (const client of open) client.close();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(open.map((c) => c.closed)), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  const left = clients.filter((c) => c.open).length;
  clients.length = 0;
  rooms.clear();
  closingAll = false;
  return { closed: open.length - left, left };
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.op) {
    case "open":
      return open(request);
    case "send":
      startSending(request.ratePerSecond);
      return null;
    case "stopSend":
      stopSending();
      return null;
    case "mark":
      mark();
      return null;
    case "report":
      return report();
    case "counts":
      return counts();
    case "closeAll":
      return closeAll(request.timeoutMs);
    case "http":
      return httpLoad(request);
  }
}

function reply(message: WorkerReply): void {
  process.send?.(message);
}

process.on("message", (message: Envelope<WorkerRequest>) => {
  handle(message).then(
    (value) => reply({ id: message.id, ok: true, value }),
    (error: unknown) =>
      reply({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
// The benchmark went away (finished or killed): nothing here may outlive it.
process.on("disconnect", () => process.exit(0));
process.send?.(WORKER_READY);
