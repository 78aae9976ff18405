/**
 * Drill timelines (`npm run drills -- --report <dir>`): the load's time series from recorded outcomes, and the SVG
 * timeline and index written from a recorded instance-kill result: well-formed XML with the fault, the alert, the
 * recovery and both series.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DOMParser } from "@xmldom/xmldom";
import { writeDrillReport } from "../../drills/report-files";
import { loadSeries } from "../../drills/load/time-series";
import type { DrillResult } from "../../drills/types";

const T0 = 1_760_000_000_000;
const FAULT = T0 + 2000;
const RECOVERED = FAULT + 1200;

/** Three clients acknowledged every 100 ms, silent from the fault to the recovery, each failing once at the fault. */
function recordedClients() {
  return [0, 1, 2].map((c) => ({
    acks: Array.from({ length: 60 }, (_, i) => ({ ackAt: T0 + i * 100 + c })).filter((a) => a.ackAt < FAULT || a.ackAt >= RECOVERED),
    failures: [{ at: FAULT + 10 + c }],
  }));
}

function recordedResult(): DrillResult {
  const samples = [
    { end: T0 + 500, ok: true },
    { end: FAULT + 300, ok: false },
    { end: RECOVERED + 100, ok: true },
  ];
  return {
    name: "instance-kill",
    recoverySeconds: 1.2,
    lost: 0,
    duplicates: 0,
    failedRequests: 1,
    degradedSeen: true,
    passed: true,
    alerts: [{ name: "GoMeetInstanceDown", firedAfterSeconds: 4.5 } as DrillResult["alerts"][number]],
    faultAt: FAULT,
    problems: [],
    details: [],
    timeline: {
      startedAt: T0,
      endedAt: T0 + 6000,
      faultAt: FAULT,
      recoveredAt: RECOVERED,
      series: loadSeries(recordedClients(), samples, T0, T0 + 6000),
    },
  };
}

test("the series counts delivered and failed operations per bucket, by the time each ended", () => {
  const series = loadSeries(recordedClients(), [{ end: FAULT + 300, ok: false }], T0, T0 + 6000);
  expect(series.bucketMs).toBe(250);
  expect(series.points).toHaveLength(24);
  const at = (ms: number) => series.points[Math.floor((ms - T0) / 250)]!;
  expect(at(T0)).toEqual({ at: T0, delivered: 9, failed: 0 }); // acks at 0, 100, 200 ms for 3 clients
  expect(at(FAULT)).toEqual({ at: FAULT, delivered: 0, failed: 3 });
  expect(at(FAULT + 300)).toEqual({ at: FAULT + 250, delivered: 0, failed: 1 });
  expect(series.points.reduce((n, p) => n + p.delivered, 0)).toBe(3 * 48);
});

test("the report writes a well-formed SVG timeline per drill and an index linking it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-drill-report-"));
  try {
    const files = await writeDrillReport(dir, [recordedResult(), { ...recordedResult(), name: "rolling-restart", timeline: undefined }]);
    expect(files.map((f) => path.basename(f))).toEqual(["instance-kill.svg", "index.html"]);
    const errors: string[] = [];
    const doc = new DOMParser({ onError: (level, message) => void (level !== "warning" && errors.push(message)) }).parseFromString(
      fs.readFileSync(path.join(dir, "instance-kill.svg"), "utf8"),
      "image/svg+xml",
    );
    expect(errors).toEqual([]);
    expect(doc.documentElement?.nodeName).toBe("svg");
    const texts = Array.from(doc.getElementsByTagName("text")).map((t) => t.textContent);
    for (const label of [
      "instance-kill: PASS, recovery 1.20 s",
      "fault",
      "GoMeetInstanceDown fired",
      "recovered",
      "delivered",
      "failed",
      "seconds after the fault",
    ])
      expect(texts).toContain(label);
    const index = fs.readFileSync(path.join(dir, "index.html"), "utf8");
    expect(index).toContain('<img src="instance-kill.svg"');
    expect(index).toContain("(no timeline: the drill's load did not run)");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
