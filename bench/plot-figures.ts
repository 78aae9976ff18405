/** Reads a report's `fanout-figures.json` back (to re-draw the plots without running the benchmark). */
import * as fs from "node:fs";
import { z } from "zod";
import type { SystemName } from "./worker-protocol";

/** One point of a plotted line: a system at one offered rate. */
export interface PlotRow {
  system: SystemName;
  offeredPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  deliveriesPerCpuSecond: number;
  /** Held: delivered in full with p99 under the limit. */
  held: boolean;
}

const row = z.object({
  system: z.enum(["gomeet", "socketio", "raw", "candidate"]),
  offeredPerSecond: z.number().positive(),
  // JSON has no NaN or Infinity: a figure that was not finite was written as null.
  p50Ms: z
    .number()
    .nullable()
    .transform((v) => v ?? NaN),
  p99Ms: z
    .number()
    .nullable()
    .transform((v) => v ?? NaN),
  deliveriesPerCpuSecond: z
    .number()
    .nullable()
    .transform((v) => v ?? NaN),
  held: z.boolean(),
});
const figures = z.object({ p99LimitMs: z.number().positive(), source: z.string().optional(), rows: z.array(row).min(1).max(1000) });

/** The figures the plots are drawn from, and where they came from. */
export interface PlotFigures {
  p99LimitMs: number;
  /** Where the figures came from (the run, or the document they were copied from). */
  source?: string;
  rows: PlotRow[];
}

export function readPlotFigures(file: string): PlotFigures {
  const parsed = figures.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}
