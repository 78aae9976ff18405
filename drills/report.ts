/** The drills' output: the `--json` document, and a table for people. */
import type { DrillFigure, DrillResult } from "./types";

export interface DrillsDocument {
  drills: Array<
    Pick<DrillResult, "name" | "recoverySeconds" | "lost" | "duplicates" | "failedRequests" | "degradedSeen" | "passed" | "alerts"> &
      Record<string, DrillFigure | DrillResult["alerts"]>
  >;
}

export function drillsDocument(results: readonly DrillResult[]): DrillsDocument {
  return {
    drills: results.map(({ name, recoverySeconds, lost, duplicates, failedRequests, degradedSeen, passed, alerts, figures }) => ({
      name,
      recoverySeconds,
      lost,
      duplicates,
      failedRequests,
      degradedSeen,
      passed,
      alerts: alerts.map(({ name: alert, firedAfterSeconds }) => ({ name: alert, firedAfterSeconds })),
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
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
      .join("  ")
      .trimEnd();
  const out = [line(HEADER), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
  if (withDetails) {
    for (const r of results) {
      out.push("", `${r.name}:`);
      for (const problem of r.problems) out.push(`  FAIL: ${problem}`);
      out.push(`  alerts: ${formatAlerts(r)}`);
      for (const detail of r.details) out.push(`  ${detail}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** "GoMeetInstanceDown after 4.20 s, ..." or "none". */
export function formatAlerts(r: Pick<DrillResult, "alerts">): string {
  return r.alerts.map((a) => `${a.name} after ${a.firedAfterSeconds.toFixed(2)} s`).join(", ") || "none";
}

/** The same table as markdown (for docs/local-cluster-and-drills.md), with the alerts that fired as a last column. */
export function formatMarkdownTable(results: readonly DrillResult[]): string {
  const rows = results.map(
    (r) =>
      `| \`${r.name}\` | ${r.recoverySeconds === null ? "never" : `${r.recoverySeconds.toFixed(2)} s`} | ${r.lost} | ${r.duplicates} | ` +
      `${r.failedRequests} | ${r.degradedSeen ? "yes" : "no"} | ${r.passed ? "pass" : "**FAIL**"} | ${formatAlerts(r)} |`,
  );
  const header = [...HEADER, "alerts (after the fault)"];
  const align = header.map((_, i) => (i === 0 || i >= HEADER.length - 1 ? "---" : "---:"));
  return [`| ${header.join(" | ")} |`, `|${align.join("|")}|`, ...rows].join("\n") + "\n";
}
