/**
 * The bench's judgement, on fixed inputs: which fan-out measurements count (countedSteps), how they are pooled
 * (figuresAt), the highest rate held (maxHeldRate), the summary (summarise), the targets behind met/MISSED and
 * `--check` (bench/targets.ts); and the token load's latency, taken from successful answers only, against a
 * stand-in server that fails half the requests fast.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { countedSteps, figuresAt, maxHeldRate, summarise, type FanoutStep } from "../../bench/fanout";
import { LatencyHistogram } from "../../bench/histogram";
import { parseOptions } from "../../bench/options";
import { benchTargets, fanoutTargets, missedSummary, tokensTargets } from "../../bench/targets";
import type { TokenModeResult, TokensResult } from "../../bench/tokens";
import { httpLoad, isSuccess } from "../../bench/worker-http-load";
import type { SystemName } from "../../bench/worker-protocol";

const PLAN = { maxOtherCpuPercent: 25, p99LimitMs: 50 };

/** A fan-out measurement: `delivered` per second over a 5 s window on `cpu` server CPU-seconds, latencies as given. */
function step(
  system: SystemName,
  rate: number,
  opts: { other?: number; delivered?: number; cpu?: number; latencies?: number[]; deliveryOk?: boolean; held?: boolean } = {},
): FanoutStep {
  const histogram = new LatencyHistogram();
  for (const ms of opts.latencies ?? [1.005]) histogram.record(ms);
  const delivered = opts.delivered ?? 30_000;
  const cpu = opts.cpu ?? 2.5;
  return {
    system,
    offeredPerSecond: rate,
    sentPerSecond: rate,
    deliveredPerSecond: delivered,
    p50Ms: histogram.percentile(0.5),
    p99Ms: histogram.percentile(0.99),
    serverCpuSeconds: cpu,
    deliveriesPerCpuSecond: (delivered * 5) / cpu,
    clientCpuPercent: 50,
    otherCpuPercent: opts.other ?? 5,
    undelivered: 0,
    unexpectedCloses: 0,
    windowSeconds: 5,
    serverCpuByProcess: {},
    deliveryOk: opts.deliveryOk ?? true,
    held: opts.held ?? true,
    latency: histogram.toSparse(),
  };
}

const repeat = (ms: number, n: number): number[] => Array.from({ length: n }, () => ms);

describe("countedSteps", () => {
  const quiet = step("gomeet", 3000, { other: 10 });
  const noisy = step("gomeet", 3000, { other: 40 });
  const otherRate = step("gomeet", 1000, { other: 5 });
  const loud = step("socketio", 3000, { other: 60 });
  const lessLoud = step("socketio", 3000, { other: 30 });
  const steps = [quiet, noisy, otherRate, loud, lessLoud];

  it("counts the measurements of that system and rate taken with other processes at most at the bound", () => {
    expect(countedSteps(steps, "gomeet", 3000, 25)).toEqual([quiet]);
    expect(countedSteps(steps, "gomeet", 3000, 40)).toEqual([quiet, noisy]);
  });

  it("falls back to the single least disturbed one when none was quiet, and to none when none ran", () => {
    expect(countedSteps(steps, "socketio", 3000, 25)).toEqual([lessLoud]);
    expect(countedSteps(steps, "raw", 3000, 25)).toEqual([]);
  });
});

describe("figuresAt", () => {
  it("pools the counted measurements: deliveries over CPU seconds summed, latencies merged", () => {
    const steps = [
      step("gomeet", 3000, { delivered: 30_000, cpu: 2, latencies: repeat(1.005, 100) }),
      step("gomeet", 3000, { delivered: 30_000, cpu: 3, latencies: [...repeat(1.005, 97), ...repeat(40.05, 3)] }),
      step("gomeet", 3000, { other: 90, delivered: 1, cpu: 100, latencies: repeat(900, 100) }), // disturbed: not counted
    ];
    const figures = figuresAt(steps, "gomeet", 3000, PLAN);
    expect(figures?.measurements).toBe(2);
    expect(figures?.deliveriesPerCpuSecond).toBe(60_000); // 2 × 30,000/s × 5 s over 5 CPU-s
    expect(figures?.p50Ms).toBeCloseTo(1.01, 9); // bucket upper edges: 10 µs below 10 ms, 100 µs below 100 ms
    expect(figures?.p99Ms).toBeCloseTo(40.1, 9); // rank 198 of 200: the first of the three slow ones
    expect(figures?.held).toBe(true);
    expect(figuresAt(steps, "gomeet", 3000, { ...PLAN, p99LimitMs: 30 })?.held).toBe(false);
    expect(figuresAt(steps, "socketio", 3000, PLAN)).toBeUndefined();
  });

  it("does not hold when one counted measurement lost deliveries, whatever its latency", () => {
    const steps = [step("gomeet", 3000), step("gomeet", 3000, { deliveryOk: false })];
    expect(figuresAt(steps, "gomeet", 3000, PLAN)?.held).toBe(false);
  });
});

describe("maxHeldRate", () => {
  it("is the highest rate up to which every rate held; a later rate that holds again does not count", () => {
    const steps = [
      step("gomeet", 1000),
      step("gomeet", 3000),
      step("gomeet", 4500),
      step("gomeet", 6000, { latencies: repeat(60.05, 10) }),
      step("gomeet", 8000),
    ];
    expect(maxHeldRate(steps, "gomeet", PLAN)).toBe(4500);
  });

  it("is 0 when not even the first rate held, and when the system never ran", () => {
    expect(maxHeldRate([step("socketio", 1000, { deliveryOk: false }), step("socketio", 3000)], "socketio", PLAN)).toBe(0);
    expect(maxHeldRate([], "raw", PLAN)).toBe(0);
  });
});

describe("summarise and the fan-out targets", () => {
  const steps = [
    step("gomeet", 1000),
    step("gomeet", 3000, { delivered: 30_000, cpu: 2.5 }), // 60,000 deliveries per CPU-s
    step("gomeet", 6000),
    step("socketio", 1000),
    step("socketio", 3000, { delivered: 30_000, cpu: 7.5, latencies: repeat(70.05, 10) }), // 20,000; p99 over 50 ms
    step("raw", 3000, { delivered: 32_000, cpu: 2 }), // 80,000
  ];

  it("computes the ratios and p99 at 3,000 msg/s, the highest rates held, and who still held at the last rate", () => {
    const result = summarise(steps, ["gomeet", "socketio", "raw"], PLAN);
    expect(result.efficiencyVsSocketio).toBe(3);
    expect(result.efficiencyVsCeiling).toBe(0.75);
    expect(result.p99MsAt3000).toBeCloseTo(1.01, 9);
    expect(result.maxRateUnder50msP99).toEqual({ ours: 6000, socketio: 1000 });
    expect(result.notReached).toEqual(["gomeet", "raw"]);
    expect(result.candidate).toBeUndefined();
    expect(fanoutTargets(result).map((t) => [t.name, t.met])).toEqual([
      ["deliveries per CPU-second vs Socket.IO at 3,000 msg/s", true],
      ["deliveries per CPU-second vs raw ws at 3,000 msg/s", true],
      ["p99 at 3,000 msg/s", true],
      ["highest rate with p99 <= 50 ms", true],
    ]);
  });

  it("a system that did not run at 3,000 msg/s leaves NaN figures, which miss their targets", () => {
    const result = summarise(
      steps.filter((s) => s.system !== "raw"),
      ["gomeet", "socketio"],
      PLAN,
    );
    expect(result.efficiencyVsCeiling).toBeNaN();
    const missed = fanoutTargets(result).filter((t) => !t.met);
    expect(missed.map((t) => t.name)).toEqual(["deliveries per CPU-second vs raw ws at 3,000 msg/s"]);
  });

  it("summarises a candidate build beside GoMeet when one ran", () => {
    const result = summarise(
      [...steps, step("candidate", 3000, { delivered: 30_000, cpu: 1.5 })],
      ["gomeet", "candidate", "socketio", "raw"],
      PLAN,
    );
    expect(result.candidate).toEqual({
      efficiencyVsSocketio: 5,
      efficiencyVsCeiling: 1.25,
      efficiencyVsGomeet: 100_000 / 60_000,
      p99MsAt3000: expect.closeTo(1.01, 9) as number,
      maxRateUnder50msP99: 3000,
    });
  });
});

describe("token targets and --check", () => {
  const mode = (name: "cached" | "signed", p50Ms: number, p99Ms: number, failed = 0): TokenModeResult => ({
    mode: name,
    requests: 10_000,
    failed,
    ratePerSecond: 1000,
    p50Ms,
    p99Ms,
    maxMs: p99Ms,
    serverCpuUsPerRequest: 500,
    statuses: { "200": 10_000 - failed, ...(failed > 0 ? { "503": failed } : {}) },
  });
  const tokens = (cached: TokenModeResult, signed: TokenModeResult): TokensResult => ({
    cached,
    signed,
    p50Ms: Math.max(cached.p50Ms, signed.p50Ms),
    p99Ms: Math.max(cached.p99Ms, signed.p99Ms),
    cachedVsSigned: cached.p50Ms / signed.p50Ms,
    failed: cached.failed + signed.failed,
    errors: [],
  });

  it("meets every target with fast successful answers and no failure", () => {
    const verdicts = tokensTargets(tokens(mode("cached", 0.6, 5), mode("signed", 1.1, 7)));
    expect(verdicts.every((v) => v.met)).toBe(true);
    expect(missedSummary(verdicts)).toBeUndefined();
  });

  it("misses on any failed request, and on a latency with no successful answer (NaN)", () => {
    const failing = tokensTargets(tokens(mode("cached", 0.6, 5), mode("signed", 1.1, 7, 3)));
    expect(failing.filter((v) => !v.met).map((v) => v.name)).toEqual(["token requests failed"]);
    const nothingAnswered = tokensTargets(tokens(mode("cached", Number.NaN, Number.NaN, 10_000), mode("signed", 1.1, 7)));
    expect(nothingAnswered.filter((v) => !v.met).map((v) => v.name)).toEqual([
      "token requests failed",
      "token p99 (worse mode, successful answers)",
      "cached vs signed median latency",
    ]);
    expect(missedSummary(failing)).toBe("1 target(s) MISSED:\n  tokens: token requests failed (target none)");
  });

  it("--check is off unless asked for", () => {
    expect(parseOptions(["--check", "--only", "tokens"])).toMatchObject({ check: true, parts: new Set(["tokens"]) });
    expect(parseOptions([]).check).toBe(false);
  });

  it("judges only the parts that ran", () => {
    expect(benchTargets({})).toEqual([]);
    expect(benchTargets({ tokens: tokens(mode("cached", 0.6, 5), mode("signed", 1.1, 7)) }).map((v) => v.part)).toEqual([
      "tokens",
      "tokens",
      "tokens",
    ]);
  });
});

describe("token latency", () => {
  it("a 2xx answer is a success; anything else is not", () => {
    expect(["200", "201", "204"].map(isSuccess)).toEqual([true, true, true]);
    expect(["error", "unfinished", "301", "429", "503"].map(isSuccess)).toEqual([false, false, false, false, false]);
  });

  it("comes from the successful answers only: fast failures are counted apart, not averaged in", async () => {
    // Requests alternate between a room whose token is answered 200 after 30 ms and one answered 503 at once.
    const server = http.createServer((req, res) => {
      req.resume();
      if (req.url?.startsWith("/rooms/fail/")) res.writeHead(503).end("{}");
      else setTimeout(() => res.writeHead(200).end("{}"), 30);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const reply = await httpLoad({
        op: "http",
        servers: [`http://127.0.0.1:${(server.address() as AddressInfo).port}`],
        rooms: ["ok", "fail"],
        mode: "signed",
        usersPerRoom: 1,
        ratePerSecond: 100,
        durationMs: 1000,
        warmupMs: 0,
        userPrefix: "judgement",
        memberPrefix: "judgement-member",
        socketsPerServer: 16,
      });
      expect(reply.recorded).toBe(100);
      expect(reply.failed).toBe(50);
      expect(reply.statuses).toEqual({ "200": 50, "503": 50 });
      const latency = LatencyHistogram.merge([reply.latency]);
      expect(latency.count).toBe(50);
      expect(latency.percentile(0.01)).toBeGreaterThanOrEqual(25); // the fast 503s (about 1 ms) are not among them
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
