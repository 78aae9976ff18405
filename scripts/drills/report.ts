/** The drills' output: the `--json` document, and a table for people. */
import type { DrillFigure, DrillResult } from "./types";

export interface DrillsDocument {
  drills: Array<
    Pick<DrillResult, "name" | "recoverySeconds" | "lost" | "duplicates" | "failedRequests" | "degradedSeen" | "passed"> &
      Record<string, DrillFigure>
  >;
}

export function drillsDocument(results: readonly DrillResult[]): DrillsDocument {
  return {
    drills: results.map(({ name, recoverySeconds, lost, duplicates, failedRequests, degradedSeen, passed, figures }) => ({
      name,
      recoverySeconds,
      lost,
      duplicates,
      failedRequests,
      degradedSeen,
      passed,
      ...figures,
    })),
  };
}

const HEADER = ["drill", "recovery", "lost", "duplicates", "failed requests", "degraded seen", "result"];

/** A plain-text table, one row per drill, then each drill's figures (and problems, if it failed). */
export function formatTable(results: readonly DrillResult[], withDetails = true): string {
  const rows = results.map((r) => [
    r.name,
    r.recoverySeconds === null ? "never" : `${r.recoverySeconds.toFixed(2)} s`,
    String(r.lost),
    String(r.duplicates),
    String(r.failedRequests),
    r.degradedSeen ? "yes" : "no",
    r.passed ? "PASS" : "FAIL",
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join("  ").trimEnd();
  const out = [line(HEADER), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
  if (withDetails) {
    for (const r of results) {
      out.push("", `${r.name}:`);
      for (const problem of r.problems) out.push(`  FAIL: ${problem}`);
      for (const detail of r.details) out.push(`  ${detail}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** The same table as markdown (for the README). */
export function formatMarkdownTable(results: readonly DrillResult[]): string {
  const rows = results.map((r) => `| \`${r.name}\` | ${r.recoverySeconds === null ? "never" : `${r.recoverySeconds.toFixed(2)} s`} | ${r.lost} | ${r.duplicates} | ${r.failedRequests} | ${r.degradedSeen ? "yes" : "no"} | ${r.passed ? "pass" : "**FAIL**"} |`);
  return [`| ${HEADER.join(" | ")} |`, `|${HEADER.map((_, i) => (i === 0 || i === HEADER.length - 1 ? "---" : "---:")).join("|")}|`, ...rows].join("\n") + "\n";
}
