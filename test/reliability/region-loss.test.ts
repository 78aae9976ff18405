/**
 * The region-loss drill on its own two-region cluster (region a: the whole local cluster; region b: a read-only
 * PostgreSQL node streaming from region a, its own Valkey, two app instances, nginx; the HAProxy global endpoint; the
 * failover controller in automatic mode with the local driver): the same drill and criteria as
 * `npm run drills -- --only region-loss`, with less load. Kept apart from drills.test.ts: it needs its own cluster.
 */
import { formatTable } from "../../drills/report";
import { runRegionDrill } from "../../drills/runner";
import { regionLoss } from "../../drills/faults/region-loss";
import type { DrillScale } from "../../drills/types";
import { startTwoRegions, type TwoRegionCluster } from "../../harness/region/two-regions";
import { runningProcesses, stopAll, temporaryDirectories } from "../../harness/process";

const SCALE: DrillScale = { rooms: 3, clientsPerRoom: 3, sendIntervalMs: 100, badInputs: 0, warmupMs: 1000 };

let two: TwoRegionCluster;
const began = Date.now();

beforeAll(async () => {
  two = await startTwoRegions();
}, 240_000);

afterAll(async () => {
  await two?.stop();
  await stopAll();
});

test("region-loss: every process of region a SIGKILLed; writes back through the global endpoint within 30 s, no split-brain write, no silent realtime loss", async () => {
  process.stdout.write(`[drills] two-region cluster ready in ${two.startupMs.total} ms\n`);
  const progress: string[] = [];
  const result = await runRegionDrill(two, regionLoss, SCALE, (line) => progress.push(line));
  if (!result.passed) throw new Error(`region-loss failed:\n${formatTable([result])}\nprogress:\n  ${progress.join("\n  ")}`);
  expect(result.figures).toMatchObject({
    splitBrainWrites: 0,
    usersRoutedToFencedRegion: 0,
    silentRealtimeLoss: 0,
    ackedWritesLost: expect.any(Number),
  });
  expect(result.figures?.rtoSeconds).toBeLessThanOrEqual(30);
  expect(result.duplicates).toBe(0);
  process.stdout.write(
    `[drills] region-loss: ${JSON.stringify(result.figures)} (suite so far ${((Date.now() - began) / 1000).toFixed(0)} s)\n`,
  );
}, 240_000);

test("stopping both regions leaves no process and no temporary directory", async () => {
  await two.stop();
  await stopAll();
  expect(runningProcesses()).toEqual([]);
  expect(temporaryDirectories()).toEqual([]);
}, 60_000);
