/**
 * `npm run bench [-- --json] [--check] [--report <dir>]` (options: see options.ts)
 *
 * Starts Valkey, PostgreSQL, a LiveKit stand-in, three GoMeet instances, three Socket.IO nodes and
 * a raw ws server on 127.0.0.1, drives them from client worker processes, and prints the fan-out,
 * connection and token figures: tables on stdout (stderr with --json), progress on stderr, and
 * with --json the result document on stdout. With --check it exits 1 when a target of the parts that ran is
 * missed (bench/targets.ts). With --report, SVG plots of the fan-out (bench/plots.ts); with
 * --plot <figures.json> --report <dir> it only re-draws the plots from a report's figures. Everything it started
 * is stopped when it ends.
 */
import os from "node:os";
import { stopAll } from "../harness/process";
import { openFilesLimit, runConnections, type ConnectionsPlan } from "./connections";
import { connectFanoutClients, runFanout, type FanoutPlan, type FanoutResult } from "./fanout";
import { Budget, log } from "./progress";
import { renderTables, resultDocument, type BenchResults, type MachineInfo } from "./report";
import { benchTargets, missedSummary } from "./targets";
import { addRoomMembers, createRooms } from "./rooms";
import { parseOptions, type BenchOptions } from "./options";
import { prioritise } from "./priority";
import { plotRows, writeBenchPlots } from "./plots";
import { readPlotFigures } from "./plot-figures";
import {
  CANDIDATE_ENTRY_ENV,
  CANDIDATE_SETTINGS_ENV,
  describeCandidate,
  parseCandidateSettings,
  startSystems,
  type BenchSystems,
  type StartOptions,
} from "./systems";
import { runTokens, type TokensPlan } from "./tokens";
import { startWorkers, type ClientWorker } from "./workers";

/** The whole command must finish within 10 minutes; optional steps stop early enough for that. */
const TOTAL_BUDGET_MS = 9 * 60 * 1000;

const FANOUT_PLAN: Omit<FanoutPlan, "rooms"> = {
  membersPerRoom: 30,
  fixedRates: [1000, 3000, 1000, 3000],
  stepRates: [4500, 6000, 8000, 10_000, 13_000, 16_000, 20_000],
  warmupMs: 1500,
  measureMs: 5000,
  drainTimeoutMs: 5000,
  p99LimitMs: 50,
  minDeliveredFraction: 0.95,
  maxOtherCpuPercent: 25,
  noisyRetries: 1,
};
const FANOUT_ROOMS = 10;
const WORKERS_PER_SYSTEM = 2;

const CONNECTIONS_PLAN: Omit<ConnectionsPlan, "heartbeatIntervalMs"> = {
  connections: 10_000,
  roomSize: 10,
  workers: 2,
  concurrencyPerWorker: 100,
  openTimeoutMs: 30_000,
  baselineMs: 5000,
  settleMs: 3000,
  holdMs: 25_000,
  sampleIntervalMs: 250,
};
/** Time kept free for the tokens part while the fan-out steps up. */
const TOKENS_RESERVE_MS = 40_000;

const TOKENS_PLAN: TokensPlan = {
  ratePerSecond: 1000,
  runMs: 7000,
  // Long enough for the first requests' JIT compilation to be out of the figures.
  warmupMs: 2000,
  rounds: 2,
  usersPerRoom: 5,
  socketsPerServer: 32,
};

async function fanout(systems: BenchSystems, rooms: string[], options: BenchOptions, budget: Budget): Promise<FanoutResult> {
  const plan: FanoutPlan = { ...FANOUT_PLAN, rooms, ...(options.rates === undefined ? {} : { fixedRates: options.rates, stepRates: [] }) };
  const workers: ClientWorker[] = [];
  try {
    const targets = [];
    const all = [systems.gomeet, ...(systems.candidate === undefined ? [] : [systems.candidate]), systems.socketio, systems.raw];
    const chosen = options.systems === undefined ? all : all.filter((s) => options.systems?.includes(s.name));
    const missing = (options.systems ?? []).filter((name) => !all.some((s) => s.name === name));
    if (missing.length > 0) {
      throw new Error(
        `--systems ${missing.join(",")}: not running (the candidate needs ${CANDIDATE_ENTRY_ENV}=<entry file> or ${CANDIDATE_SETTINGS_ENV}=NAME=value,…)`,
      );
    }
    for (const system of chosen) {
      const own = await startWorkers(WORKERS_PER_SYSTEM, systems.jwtSecret, `${system.name}-client`);
      workers.push(...own);
      const target = { system, workers: own };
      log(`fan-out: connecting ${rooms.length * plan.membersPerRoom} ${system.name} clients`);
      await connectFanoutClients(target, plan);
      targets.push(target);
    }
    return await runFanout(targets, plan, budget);
  } finally {
    await Promise.all(workers.map((w) => w.closeAll(5000).catch(() => undefined)));
    await Promise.all(workers.map((w) => w.stop()));
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.plot !== undefined && options.report !== undefined) {
    const figures = readPlotFigures(options.plot);
    log(`plots: ${(await writeBenchPlots(options.report, figures)).join(", ")}`);
    return;
  }
  const settingsText = process.env[CANDIDATE_SETTINGS_ENV];
  const start: StartOptions = {
    cpuProfileDir: options.cpuProfileDir,
    candidateEntry: process.env[CANDIDATE_ENTRY_ENV] || undefined,
    candidateSettings: settingsText === undefined || settingsText === "" ? undefined : parseCandidateSettings(settingsText),
    nice: options.nice,
  };
  const candidate = describeCandidate(start);
  const began = Date.now();
  const budget = new Budget(TOTAL_BUDGET_MS);
  if (options.nice !== undefined) {
    // The client workers inherit it; each server (a session of its own) gets it when started.
    prioritise(0, options.nice);
    log(`running at nice ${options.nice}`);
  }
  const loadAverageStart = os.loadavg();
  log(
    `machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, load average ${loadAverageStart.map((l) => l.toFixed(2)).join(" ")}`,
  );
  log("starting Valkey, PostgreSQL, a LiveKit stand-in, 3 GoMeet instances, 3 Socket.IO nodes and the raw ws server");
  if (candidate !== undefined) log(`candidate: ${candidate}`);
  const systems = await startSystems(start);
  const results: BenchResults = {};
  const needsRooms = options.parts.has("fanout") || options.parts.has("tokens");
  const rooms = needsRooms ? await createRooms(systems.gomeet.endpoints[0] as string, FANOUT_ROOMS, "fanout") : [];
  // Only members join: the fan-out's clients (bench/fanout.ts roomConnections names member j of room r `fanout-r-j`).
  if (options.parts.has("fanout")) {
    await addRoomMembers(systems.gomeet.endpoints[0] as string, rooms, FANOUT_PLAN.membersPerRoom, (r, j) => `fanout-${r}-${j}`);
  }
  if (options.parts.has("tokens")) budget.reserve(TOKENS_RESERVE_MS);
  // Connections first: the instances' resident memory is measured from their fresh state.
  if (options.parts.has("connections")) {
    results.connections = await runConnections(systems, { ...CONNECTIONS_PLAN, heartbeatIntervalMs: systems.gomeet.heartbeatIntervalMs });
  }
  if (options.parts.has("fanout")) results.fanout = await fanout(systems, rooms, options, budget);
  if (options.parts.has("tokens")) {
    budget.release(TOKENS_RESERVE_MS);
    log(`tokens: ${TOKENS_PLAN.ratePerSecond} requests/s, cached and signed alternating`);
    results.tokens = await runTokens(systems, rooms, TOKENS_PLAN);
  }
  const machine: MachineInfo = {
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.versions.node,
    loadAverageStart,
    loadAverageEnd: os.loadavg(),
    openFilesLimit: openFilesLimit(),
    nice: os.getPriority(),
    durationSeconds: (Date.now() - began) / 1000,
    candidate,
  };
  const tables = renderTables(results, machine);
  if (options.report !== undefined && results.fanout !== undefined) {
    const source = `npm run bench at ${new Date().toISOString()} on ${machine.cores} cores, load average ${machine.loadAverageStart.map((l) => l.toFixed(1)).join(" ")}`;
    const figures = { p99LimitMs: results.fanout.p99LimitMs, source, rows: plotRows(results.fanout) };
    log(`plots: ${(await writeBenchPlots(options.report, figures)).join(", ")}`);
  }
  if (options.json) {
    process.stderr.write(`\n${tables}`);
    process.stdout.write(`${JSON.stringify(resultDocument(results), null, 2)}\n`);
  } else {
    process.stdout.write(`\n${tables}`);
  }
  if (options.check) {
    const missed = missedSummary(benchTargets(results));
    log(missed ?? "--check: every target of the parts that ran was met");
    if (missed !== undefined) process.exitCode = 1;
  }
}

main()
  .catch((error: unknown) => {
    process.exitCode = 1;
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  })
  .finally(async () => {
    await stopAll().catch((error: unknown) => log(`stopping servers: ${String(error)}`));
  });
