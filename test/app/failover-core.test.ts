/**
 * The region-failover core (app/src/failover) against a fake driver: it is pure logic (the drivers have their own
 * tests: the local one through the region-loss drill, the DigitalOcean one against a stand-in API).
 */
import { Registry } from "prom-client";
import { FailoverController } from "../../app/src/failover/controller";
import { RegionLossDetector } from "../../app/src/failover/detector";
import { FailoverConflictError, FailoverStepError, runFailover } from "../../app/src/failover/failover";
import { MemoryJournal } from "../../app/src/failover/journal";
import type { FailoverDriver, FailoverLog, FailoverStepName, VantagePoint } from "../../app/src/failover/types";

const quiet: FailoverLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

class FakeDriver implements FailoverDriver {
  readonly name = "fake";
  readonly calls: string[] = [];
  /** Steps that fail (once each, unless sticky). */
  failing = new Map<FailoverStepName, { sticky: boolean }>();
  regionUp = true;

  vantagePoints(region: string): VantagePoint[] {
    return ["inside", "outside"].map((name) => ({ name, probe: async () => this.regionUp && region === "a" }));
  }
  plan(from: string, to: string) {
    return (["fence", "promote", "switch-entry", "restore", "confirm"] as const).map((step) => ({
      step,
      description: `${step} ${from}->${to}`,
      requests: [`${step}-request`],
    }));
  }
  private async step(step: FailoverStepName, region: string): Promise<void> {
    this.calls.push(`${step}:${region}`);
    const failure = this.failing.get(step);
    if (failure !== undefined) {
      if (!failure.sticky) this.failing.delete(step);
      throw new Error(`${step} broke`);
    }
  }
  fence = (from: string) => this.step("fence", from);
  promote = (to: string) => this.step("promote", to);
  switchEntry = (to: string) => this.step("switch-entry", to);
  restore = (to: string) => this.step("restore", to);
  confirm = (to: string) => this.step("confirm", to);
}

function vantage(name: string, answer: () => boolean | Promise<boolean>): VantagePoint {
  return { name, probe: async () => answer() };
}

describe("RegionLossDetector", () => {
  test("declares a region lost only when every vantage point saw it down for the whole window; one success resets a streak", async () => {
    let clock = 0;
    const answers = { inside: false, outside: false };
    const detector = new RegionLossDetector([vantage("inside", () => answers.inside), vantage("outside", () => answers.outside)], {
      windowMs: 1000,
      intervalMs: 100,
      probeTimeoutMs: 50,
      now: () => clock,
    });
    expect((await detector.probeOnce()).lost).toBe(false);
    clock = 600;
    answers.outside = true; // one success: the outside view's streak starts again
    expect(await detector.probeOnce()).toMatchObject({ lost: false, down: 1 });
    answers.outside = false;
    clock = 700;
    expect((await detector.probeOnce()).lost).toBe(false);
    clock = 1200; // inside down for 1200 ms, outside only for 500 ms
    expect((await detector.probeOnce()).lost).toBe(false);
    clock = 1700;
    expect(await detector.probeOnce()).toMatchObject({ lost: true, down: 2 });
  });

  test("with a quorum, the vantage points that still see the region up do not block the verdict", async () => {
    let clock = 0;
    const detector = new RegionLossDetector([vantage("a", () => false), vantage("b", () => false), vantage("c", () => true)], {
      windowMs: 500,
      intervalMs: 100,
      probeTimeoutMs: 50,
      quorum: 2,
      now: () => clock,
    });
    await detector.probeOnce();
    clock = 500;
    expect(await detector.probeOnce()).toMatchObject({ lost: true, down: 2 });
  });

  test("a probe that hangs past its timeout or throws counts as down, with the reason kept", async () => {
    const detector = new RegionLossDetector(
      [vantage("hangs", () => new Promise<boolean>(() => undefined)), vantage("throws", () => Promise.reject(new Error("ECONNREFUSED")))],
      { windowMs: 1, intervalMs: 100, probeTimeoutMs: 30 },
    );
    await detector.probeOnce();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const verdict = await detector.probeOnce();
    expect(verdict.lost).toBe(true);
    expect(verdict.vantagePoints.map((v) => v.error)).toEqual(["no answer within 30 ms", "ECONNREFUSED"]);
  });

  test("refuses a quorum larger than the vantage points and a timeout longer than the interval, naming both", () => {
    expect(
      () => new RegionLossDetector([vantage("a", () => true)], { windowMs: 10, intervalMs: 10, probeTimeoutMs: 20, quorum: 2 }),
    ).toThrow(
      /quorum must be an integer from 1 to the number of vantage points \(1\), got 2; probeTimeoutMs \(20\) must not exceed intervalMs \(10\)/,
    );
  });
});

describe("runFailover", () => {
  test("runs fence, promote, switch-entry, restore, confirm in that order and records the completed run", async () => {
    const driver = new FakeDriver();
    const journal = new MemoryJournal();
    const result = await runFailover(driver, { from: "a", to: "b", log: quiet, journal });
    expect(driver.calls).toEqual(["fence:a", "promote:b", "switch-entry:b", "restore:b", "confirm:b"]);
    expect(result.ran).toEqual(["fence", "promote", "switch-entry", "restore", "confirm"]);
    const record = await journal.read();
    expect(record).toMatchObject({ from: "a", to: "b", driver: "fake" });
    expect(record?.completedAt).toEqual(expect.any(String));
    expect(record?.steps.map((s) => s.step)).toEqual(result.ran);
  });

  test("stops at the first failure with an error naming the step; a re-run resumes after the steps done", async () => {
    const driver = new FakeDriver();
    driver.failing.set("switch-entry", { sticky: false });
    const journal = new MemoryJournal();
    const failed = runFailover(driver, { from: "a", to: "b", log: quiet, journal });
    await expect(failed).rejects.toThrow(FailoverStepError);
    await expect(failed).rejects.toThrow('failover step "switch-entry" failed: switch-entry broke');
    expect(driver.calls).toEqual(["fence:a", "promote:b", "switch-entry:b"]);
    expect(await journal.read()).toMatchObject({
      lastError: expect.stringContaining("switch-entry"),
      steps: [{ step: "fence" }, { step: "promote" }],
    });
    expect((await journal.read())?.completedAt).toBeUndefined();

    driver.calls.length = 0;
    const again = await runFailover(driver, { from: "a", to: "b", log: quiet, journal });
    expect(driver.calls).toEqual(["switch-entry:b", "restore:b", "confirm:b"]);
    expect(again.ran).toEqual(["switch-entry", "restore", "confirm"]);
    expect((await journal.read())?.lastError).toBeUndefined();
  });

  test("a completed failover is not run again, and a failover between other regions is refused", async () => {
    const driver = new FakeDriver();
    const journal = new MemoryJournal();
    await runFailover(driver, { from: "a", to: "b", log: quiet, journal });
    driver.calls.length = 0;
    expect((await runFailover(driver, { from: "a", to: "b", log: quiet, journal })).alreadyDone).toBe(true);
    await expect(runFailover(driver, { from: "b", to: "a", log: quiet, journal })).rejects.toThrow(FailoverConflictError);
    await expect(runFailover(driver, { from: "b", to: "a", log: quiet, journal })).rejects.toThrow(/journal records a failover a -> b/);
    expect(driver.calls).toEqual([]);
  });

  test("a dry run logs every step's plan and does nothing", async () => {
    const driver = new FakeDriver();
    const lines: string[] = [];
    const log: FailoverLog = { ...quiet, info: (_fields, message) => void lines.push(message) };
    const journal = new MemoryJournal();
    await runFailover(driver, { from: "a", to: "b", log, journal, dryRun: true });
    expect(driver.calls).toEqual([]);
    expect(await journal.read()).toBeUndefined();
    expect(lines).toEqual(["fence", "promote", "switch-entry", "restore", "confirm"].map((s) => `dry run: ${s}: ${s} a->b`));
  });
});

describe("FailoverController", () => {
  const detector = { windowMs: 150, intervalMs: 20, probeTimeoutMs: 15 };

  test("automatic: fails over once after the window, retries a failed step, and never again after a restart", async () => {
    const driver = new FakeDriver();
    driver.failing.set("confirm", { sticky: false });
    const journal = new MemoryJournal();
    const registry = new Registry();
    const controller = new FailoverController({
      mode: "automatic",
      from: "a",
      to: "b",
      driver,
      journal,
      detector,
      registry,
      log: quiet,
      retryMs: 20,
    });
    await controller.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(driver.calls).toEqual([]);
    expect(controller.currentState).toBe("watching");
    driver.regionUp = false;
    await controller.waitFor("failed_over", 5000);
    await controller.stop();
    expect(driver.calls).toEqual(["fence:a", "promote:b", "switch-entry:b", "restore:b", "confirm:b", "confirm:b"]);
    expect(controller.events.map((e) => e.state)).toEqual([
      "watching",
      "suspect",
      "lost",
      "failing_over",
      "failed",
      "failing_over",
      "failed_over",
    ]);
    const metrics = await registry.metrics();
    expect(metrics).toContain('gomeet_failover_state{state="failed_over"} 1');
    expect(metrics).toContain('gomeet_region_primary_up{region="a"} 0');
    expect(metrics).toContain('gomeet_failover_runs_total{result="failed"} 1');

    driver.calls.length = 0;
    driver.regionUp = true;
    const restarted = new FailoverController({
      mode: "automatic",
      from: "a",
      to: "b",
      driver,
      journal,
      detector,
      registry: new Registry(),
      log: quiet,
    });
    await restarted.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await restarted.stop();
    expect(restarted.currentState).toBe("failed_over");
    expect(driver.calls).toEqual([]);
  });

  test("manual: declares the region lost in its metrics and does nothing", async () => {
    const driver = new FakeDriver();
    driver.regionUp = false;
    const registry = new Registry();
    const controller = new FailoverController({
      mode: "manual",
      from: "a",
      to: "b",
      driver,
      journal: new MemoryJournal(),
      detector,
      registry,
      log: quiet,
    });
    await controller.start();
    await controller.waitFor("lost", 5000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await controller.stop();
    expect(driver.calls).toEqual([]);
    const metrics = await registry.metrics();
    expect(metrics).toContain('gomeet_region_lost{region="a"} 1');
    expect(metrics).toContain('gomeet_failover_state{state="lost"} 1');
    expect(metrics).toContain('gomeet_failover_mode{mode="manual"} 1');
  });

  test("automatic: a failover that stopped part-way (journal) is resumed at start without waiting for the detector", async () => {
    const driver = new FakeDriver();
    const journal = new MemoryJournal({
      from: "a",
      to: "b",
      driver: "fake",
      startedAt: new Date().toISOString(),
      steps: [{ step: "fence", doneAt: new Date().toISOString(), durationMs: 3 }],
    });
    const controller = new FailoverController({
      mode: "automatic",
      from: "a",
      to: "b",
      driver,
      journal,
      detector,
      registry: new Registry(),
      log: quiet,
    });
    await controller.start();
    await controller.waitFor("failed_over", 5000);
    await controller.stop();
    expect(driver.calls).toEqual(["promote:b", "switch-entry:b", "restore:b", "confirm:b"]);
  });
});
