/**
 * `npm run bench -- --report <dir>`: SVG plots of the fan-out figures (vega-lite rendered in Node): p50 and p99
 * latency against the offered rate, and deliveries per server CPU-second against the offered rate, one line per
 * system (GoMeet, Socket.IO, raw ws, and the candidate build when one ran), from the counted measurements pooled
 * per system and rate (the table "Per system and rate").
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { renderSvg, type ChartSpec } from "../harness/vega-svg";
import { figuresAt, type FanoutResult } from "./fanout";
import type { SystemName } from "./worker-protocol";
import type { PlotFigures, PlotRow } from "./plot-figures";

export type { PlotRow };

/** One system at one offered rate. */

const LABEL: Record<SystemName, string> = { gomeet: "GoMeet", socketio: "Socket.IO", raw: "raw ws", candidate: "candidate" };
const COLOR: Record<SystemName, string> = { gomeet: "#2563eb", socketio: "#ea580c", raw: "#6b7280", candidate: "#16a34a" };

/** The pooled figures per system and rate of a fan-out run. */
export function plotRows(fanout: FanoutResult): PlotRow[] {
  const systems = [...new Set(fanout.steps.map((s) => s.system))];
  const rates = [...new Set(fanout.steps.map((s) => s.offeredPerSecond))].sort((a, b) => a - b);
  return systems.flatMap((system) =>
    rates.flatMap((rate) => {
      const f = figuresAt(fanout.steps, system, rate, fanout);
      return f === undefined
        ? []
        : [
            {
              system,
              offeredPerSecond: rate,
              p50Ms: f.p50Ms,
              p99Ms: f.p99Ms,
              deliveriesPerCpuSecond: f.deliveriesPerCpuSecond,
              held: f.held,
            },
          ];
    }),
  );
}

function colorOf(rows: readonly PlotRow[]) {
  const systems = [...new Set(rows.map((r) => r.system))];
  return {
    field: "system",
    type: "nominal",
    title: null,
    scale: { domain: systems.map((s) => LABEL[s]), range: systems.map((s) => COLOR[s]) },
  } as const;
}

const X = { field: "offeredPerSecond", type: "quantitative", title: "offered messages / s (10 rooms × 30 members)" } as const;

/** p50 and p99 latency (log scale) against the offered rate. */
export function latencySpec(rows: readonly PlotRow[], p99LimitMs: number): ChartSpec {
  const values = rows.flatMap((r) => [
    { system: LABEL[r.system], offeredPerSecond: r.offeredPerSecond, percentile: "p50", ms: r.p50Ms },
    { system: LABEL[r.system], offeredPerSecond: r.offeredPerSecond, percentile: "p99", ms: r.p99Ms },
  ]);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: "Fan-out latency against offered rate",
      subtitle: `p50 solid, p99 dashed; the dotted line is the ${p99LimitMs} ms p99 limit`,
    },
    width: 560,
    height: 280,
    layer: [
      {
        data: { values: values.filter((v) => Number.isFinite(v.ms) && v.ms > 0) },
        mark: { type: "line", point: true },
        encoding: {
          x: X,
          y: { field: "ms", type: "quantitative", title: "latency, ms (log)", scale: { type: "log" } },
          color: colorOf(rows),
          strokeDash: {
            field: "percentile",
            type: "nominal",
            title: null,
            scale: {
              domain: ["p50", "p99"],
              range: [
                [1, 0],
                [6, 3],
              ],
            },
          },
        },
      },
      {
        data: { values: [{ limit: p99LimitMs }] },
        mark: { type: "rule", strokeDash: [2, 2], color: "#b91c1c" },
        encoding: { y: { field: "limit", type: "quantitative" } },
      },
    ],
    config: { background: "white" },
  } as ChartSpec;
}

/** Deliveries per server CPU-second against the offered rate. */
export function efficiencySpec(rows: readonly PlotRow[]): ChartSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: "Deliveries per server CPU-second against offered rate", subtitle: "higher is better; raw ws is the ceiling" },
    width: 560,
    height: 280,
    data: { values: rows.filter((r) => Number.isFinite(r.deliveriesPerCpuSecond)).map((r) => ({ ...r, system: LABEL[r.system] })) },
    mark: { type: "line", point: true },
    encoding: {
      x: X,
      y: { field: "deliveriesPerCpuSecond", type: "quantitative", title: "deliveries / CPU-second" },
      color: colorOf(rows),
    },
    config: { background: "white" },
  } as ChartSpec;
}

/** Writes `fanout-latency.svg`, `fanout-efficiency.svg` and the figures (`fanout-figures.json`) into `dir`; returns the files. */
export async function writeBenchPlots(dir: string, figures: PlotFigures): Promise<string[]> {
  const { rows, p99LimitMs } = figures;
  fs.mkdirSync(dir, { recursive: true });
  const files: [string, ChartSpec][] = [
    ["fanout-latency.svg", latencySpec(rows, p99LimitMs)],
    ["fanout-efficiency.svg", efficiencySpec(rows)],
  ];
  const written: string[] = [];
  for (const [name, spec] of files) {
    fs.writeFileSync(path.join(dir, name), await renderSvg(spec));
    written.push(path.join(dir, name));
  }
  fs.writeFileSync(path.join(dir, "fanout-figures.json"), `${JSON.stringify(figures, null, 2)}\n`);
  written.push(path.join(dir, "fanout-figures.json"));
  return written;
}
