/** The command line of `npm run bench`. */
import { parseArgs } from "node:util";
import type { SystemName } from "./worker-protocol";

export const PARTS = ["fanout", "connections", "tokens"] as const;
export type Part = (typeof PARTS)[number];
export const SYSTEMS: readonly SystemName[] = ["gomeet", "socketio", "raw"];
/** What --systems accepts: the candidate build too, when GOMEET_BENCH_CANDIDATE names one. */
const SYSTEM_CHOICES: readonly SystemName[] = [...SYSTEMS, "candidate"];

export const USAGE =
  `usage: npm run bench [-- --json] [--check] [--only ${PARTS.join(",")}] [--systems ${SYSTEM_CHOICES.join(",")}] ` +
  "[--rates 1000,3000] [--cpu-prof-dir <dir>] [--nice=<-20..19>] [--report <dir>] [--plot <fanout-figures.json> --report <dir>]";

export interface BenchOptions {
  /** Print the result document on stdout (tables go to stderr). */
  json: boolean;
  /** Exit 1 when a target of the parts that ran is missed (bench/targets.ts). */
  check: boolean;
  parts: Set<Part>;
  /** Systems the fan-out runs (default: all, the candidate build included when there is one). */
  systems?: SystemName[];
  /** Fan-out rates to run instead of the plan's, without stepping (for profiling). */
  rates?: number[];
  /** Every server writes a V8 CPU profile under this directory when it stops. */
  cpuProfileDir?: string;
  /**
   * Scheduling priority (nice value) for the benchmark and everything it starts, e.g. -10 on a
   * machine where other work runs, so that work interferes less with what is measured.
   */
  nice?: number;
  /** Write SVG plots of the fan-out figures (and the figures as JSON) into this directory. */
  report?: string;
  /** Only re-plot: read the figures from this file (a report's fanout-figures.json) and run nothing. */
  plot?: string;
}

/** The comma-separated values of `--flag`, each one of `allowed`. */
function listOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(",").filter((item) => item !== "");
  if (list.length === 0 || list.some((item) => !(allowed as readonly string[]).includes(item))) {
    throw new Error(`--${flag} takes a comma-separated list of ${allowed.join(", ")}; got "${value}"\n${USAGE}`);
  }
  return list as T[];
}

function ratesOf(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const rates = value.split(",").map(Number);
  if (rates.some((rate) => !Number.isInteger(rate) || rate <= 0)) {
    throw new Error(`--rates takes a comma-separated list of positive integers (messages per second); got "${value}"\n${USAGE}`);
  }
  return rates;
}

function niceOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const nice = Number(value);
  if (!/^-?\d+$/.test(value) || nice < -20 || nice > 19)
    throw new Error(`--nice takes an integer from -20 to 19; got "${value}"\n${USAGE}`);
  return nice;
}

export function parseOptions(argv: string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        json: { type: "boolean", default: false },
        check: { type: "boolean", default: false },
        only: { type: "string" },
        systems: { type: "string" },
        rates: { type: "string" },
        "cpu-prof-dir": { type: "string" },
        nice: { type: "string" },
        report: { type: "string" },
        plot: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  const profileDir = values["cpu-prof-dir"];
  if (profileDir === "") throw new Error(`--cpu-prof-dir takes a directory\n${USAGE}`);
  if (values.report === "") throw new Error(`--report takes a directory\n${USAGE}`);
  if (values.plot !== undefined && values.report === undefined)
    throw new Error(`--plot needs --report <dir> to write the plots into\n${USAGE}`);
  return {
    report: values.report,
    plot: values.plot,
    json: values.json === true,
    check: values.check === true,
    parts: new Set(listOf("only", values.only, PARTS) ?? PARTS),
    systems: listOf("systems", values.systems, SYSTEM_CHOICES),
    rates: ratesOf(values.rates),
    cpuProfileDir: profileDir,
    nice: niceOf(values.nice),
  };
}
