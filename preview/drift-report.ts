/**
 * The nightly drift check's job summary: `npm run --silent drift-report -- --json drift.json --stderr drift.err
 * --exit <code>` turns the output of `pulumi preview --refresh --expect-no-changes --json` into Markdown that
 * says what drifted: every resource the program would create, update, replace or delete to bring prod back to
 * main, with the properties that differ (paths and kinds only: no values, so no secret is ever printed), the
 * preview's errors and warnings, and the end of its stderr when it failed.
 *
 * The JSON is Pulumi's PreviewDigest (pulumi/pulumi@1fe2f58220fe303af2a5395b8a6e5d02f282e66c,
 * sdk/go/common/display/json.go): `steps[]` with `op`, `urn`, `diffReasons`, `replaceReasons`, `detailedDiff`
 * (path → {kind}), `diagnostics[]`, `changeSummary`. Exit 0 with the report on stdout; 2 on bad arguments.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";

/** A preview step, as far as the report reads it. */
export interface PreviewStep {
  op: string;
  urn: string;
  diffReasons?: string[];
  replaceReasons?: string[];
  detailedDiff?: Record<string, { kind: string }> | null;
  /** Old and new state carry values (secrets too): never read, never printed. */
  oldState?: unknown;
  newState?: unknown;
}

/** The `pulumi preview --json` document, as far as the report reads it. */
export interface PreviewDigest {
  steps?: PreviewStep[];
  diagnostics?: { urn?: string; message?: string; severity?: string }[];
  changeSummary?: Record<string, number>;
}

/** One resource that differs from what main describes. */
export interface Drifted {
  op: string;
  type: string;
  name: string;
  /** `path (kind)` for each differing property, or the diff reasons when there is no detailed diff. */
  differs: string[];
}

/**
 * Steps that are not drift: nothing to do, reads, the refresh itself, and the two halves of a replacement
 * (reported once, as its `replace` step).
 */
const NOT_DRIFT = new Set([
  "same",
  "read",
  "read-discard",
  "read-replacement",
  "refresh",
  "create-replacement",
  "delete-replaced",
  "discard-replaced",
]);

/** Type token and name of a URN (`urn:pulumi:<stack>::<project>::<parent$...$type>::<name>`). */
export function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  if (parts.length < 4 || !urn.startsWith("urn:pulumi:")) throw new Error(`not a Pulumi URN: ${JSON.stringify(urn)}`);
  return { type: parts[2]!.split("$").pop()!, name: parts.slice(3).join("::") };
}

/** The resources the preview would change, in the preview's order. */
export function driftedResources(digest: PreviewDigest): Drifted[] {
  return (digest.steps ?? [])
    .filter((step) => !NOT_DRIFT.has(step.op))
    .map((step) => {
      const detailed = Object.entries(step.detailedDiff ?? {}).map(([path, d]) => `${path} (${d.kind})`);
      const reasons = step.op === "replace" ? (step.replaceReasons ?? step.diffReasons ?? []) : (step.diffReasons ?? []);
      return { op: step.op, ...parseUrn(step.urn), differs: detailed.length ? detailed.sort() : [...reasons].sort() };
    });
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "");

/** The Markdown summary. `json` is the preview's stdout (or undefined when it wrote none), `exit` its exit code. */
export function driftReport(stack: string, json: string | undefined, stderr: string, exit: number): string {
  const lines = [`### Drift check: ${stack} (\`pulumi preview --refresh --expect-no-changes\`)`, ""];
  let digest: PreviewDigest | undefined;
  try {
    digest = json && json.trim() ? (JSON.parse(json) as PreviewDigest) : undefined;
  } catch (err) {
    lines.push(`The preview's JSON could not be read (${(err as Error).message}).`, "");
  }
  const drifted = digest ? driftedResources(digest) : [];
  if (drifted.length) {
    lines.push(
      `**Drift: ${drifted.length} resource(s) differ from main.** To put prod back, re-run the deploy of main (or undo the change`,
    );
    lines.push("made outside it); to keep the change, make it in the code and merge it.", "");
    lines.push("| operation | resource | type | what differs |", "|---|---|---|---|");
    for (const d of drifted) lines.push(`| ${d.op} | ${cell(d.name)} | ${cell(d.type)} | ${cell(d.differs.join(", ") || "(no detail)")} |`);
    lines.push("");
  } else if (digest && exit === 0) {
    const same = digest.changeSummary?.same ?? 0;
    lines.push(`**No drift.** Prod matches main (${same} resource(s) unchanged).`, "");
  } else {
    lines.push(`**The preview failed (exit ${exit}) before it could tell whether prod drifted.**`, "");
  }
  const diagnostics = (digest?.diagnostics ?? []).filter((d) => d.severity === "error" || d.severity === "warning");
  if (diagnostics.length) {
    lines.push("Errors and warnings:", "");
    for (const d of diagnostics) {
      const where = d.urn ? ` (${parseUrn(d.urn).name})` : "";
      lines.push(`- ${d.severity}${where}: ${cell(stripAnsi(d.message ?? "").trim())}`);
    }
    lines.push("");
  }
  if (exit !== 0 && stderr.trim()) {
    const tail = stripAnsi(stderr).trim().split("\n").slice(-30).join("\n");
    lines.push("<details><summary>pulumi's stderr (last 30 lines)</summary>", "", "```", tail, "```", "</details>", "");
  }
  return lines.join("\n");
}

/** The report for the command line `--json <file> --stderr <file> --exit <code> [--stack <name>]`; throws naming the bad argument. */
export function main(argv: string[]): string {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: "string" }, stderr: { type: "string" }, exit: { type: "string" }, stack: { type: "string", default: "prod" } },
  });
  if (!values.json || !values.stderr || values.exit === undefined)
    throw new Error("usage: drift-report --json <file> --stderr <file> --exit <code>");
  if (!/^\d+$/.test(values.exit)) throw new Error(`--exit must be the preview's exit code, got ${JSON.stringify(values.exit)}`);
  const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined);
  return driftReport(values.stack!, read(values.json), read(values.stderr) ?? "", Number(values.exit));
}
