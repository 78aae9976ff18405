/**
 * `npm run drills -- --report <dir>`: per drill an SVG timeline (`<drill>.svg`) and an `index.html` that shows
 * them with each drill's figures.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { formatAlerts } from "./report";
import { timelineSvg } from "./timeline-chart";
import type { DrillResult } from "./types";

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Writes the timelines and the index into `dir` (created if missing); returns the files written. */
export async function writeDrillReport(dir: string, results: readonly DrillResult[]): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const rows: string[] = [];
  for (const r of results) {
    const svg = await timelineSvg(r);
    const file = `${r.name}.svg`;
    if (svg !== undefined) {
      fs.writeFileSync(path.join(dir, file), svg);
      written.push(path.join(dir, file));
    }
    const recovery = r.recoverySeconds === null ? "never" : `${r.recoverySeconds.toFixed(2)} s`;
    rows.push(
      `<section id="${escape(r.name)}"><h2>${escape(r.name)}: ${r.passed ? "PASS" : "FAIL"}</h2>`,
      `<p>recovery ${escape(recovery)}; lost ${r.lost}; duplicates ${r.duplicates}; failed requests ${r.failedRequests}; alerts: ${escape(formatAlerts(r))}</p>`,
      ...r.problems.map((p) => `<p class="fail">FAIL: ${escape(p)}</p>`),
      svg === undefined
        ? "<p>(no timeline: the drill's load did not run)</p>"
        : `<p><a href="${file}"><img src="${file}" alt="${escape(r.name)} timeline"></a></p>`,
      "</section>",
    );
  }
  const index = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><title>GoMeet drills</title>',
    "<style>body{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto}img{max-width:100%}.fail{color:#b91c1c}</style></head><body>",
    "<h1>GoMeet drills</h1>",
    `<ul>${results.map((r) => `<li><a href="#${escape(r.name)}">${escape(r.name)}</a> ${r.passed ? "PASS" : "FAIL"}</li>`).join("")}</ul>`,
    ...rows,
    "</body></html>",
    "",
  ].join("\n");
  fs.writeFileSync(path.join(dir, "index.html"), index);
  written.push(path.join(dir, "index.html"));
  return written;
}
