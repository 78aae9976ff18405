/** The benchmark's plots (`npm run bench -- --report <dir>`), drawn from fixed figures: well-formed SVG with every system. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DOMParser, type Document } from "@xmldom/xmldom";
import { readPlotFigures } from "../../bench/plot-figures";
import { writeBenchPlots, type PlotRow } from "../../bench/plots";

const ROWS: PlotRow[] = [
  { system: "gomeet", offeredPerSecond: 1000, p50Ms: 0.9, p99Ms: 3.1, deliveriesPerCpuSecond: 37_700, held: true },
  { system: "gomeet", offeredPerSecond: 3000, p50Ms: 1.33, p99Ms: 5.09, deliveriesPerCpuSecond: 85_400, held: true },
  { system: "socketio", offeredPerSecond: 1000, p50Ms: 4.2, p99Ms: 31, deliveriesPerCpuSecond: 37_400, held: true },
  { system: "socketio", offeredPerSecond: 3000, p50Ms: 18.1, p99Ms: 172, deliveriesPerCpuSecond: 82_400, held: false },
  { system: "raw", offeredPerSecond: 1000, p50Ms: 0.4, p99Ms: 2.2, deliveriesPerCpuSecond: 115_900, held: true },
  { system: "raw", offeredPerSecond: 3000, p50Ms: 0.54, p99Ms: Infinity, deliveriesPerCpuSecond: 165_100, held: true },
];

function parseSvg(file: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, message) => void (level !== "warning" && errors.push(message)) }).parseFromString(
    fs.readFileSync(file, "utf8"),
    "image/svg+xml",
  );
  expect(errors).toEqual([]);
  expect(doc.documentElement?.nodeName).toBe("svg");
  return doc;
}

test("latency and deliveries per CPU-second plots, one line per system, and the figures to re-draw them", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-bench-plots-"));
  try {
    const files = await writeBenchPlots(dir, { p99LimitMs: 50, source: "fixed figures", rows: ROWS });
    expect(files.map((f) => path.basename(f))).toEqual(["fanout-latency.svg", "fanout-efficiency.svg", "fanout-figures.json"]);
    for (const [file, title] of [
      ["fanout-latency.svg", "Fan-out latency against offered rate"],
      ["fanout-efficiency.svg", "Deliveries per server CPU-second against offered rate"],
    ] as const) {
      const texts = Array.from(parseSvg(path.join(dir, file)).getElementsByTagName("text")).map((t) => t.textContent);
      for (const label of [title, "GoMeet", "Socket.IO", "raw ws"]) expect(texts).toContain(label);
    }
    // A figure that was not finite (p99 Infinity) round-trips as NaN, not as a number.
    const back = readPlotFigures(path.join(dir, "fanout-figures.json"));
    expect(back.rows[5]!.p99Ms).toBeNaN();
    expect(back.rows.slice(0, 5)).toEqual(ROWS.slice(0, 5));
    expect(back.source).toBe("fixed figures");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
