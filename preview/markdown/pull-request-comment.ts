/**
 * The preview as GitHub Markdown (`--format markdown`), for the pull-request comment: a one-line summary, a Mermaid
 * flowchart of the deployment with the changes marked, the policy verdicts and the HA scorecard as tables, the cost,
 * and the full text output folded in `<details>`.
 */
import { formatUsd, type CostDelta, type CostEstimate } from "../cost/estimate";
import { deploymentDiagram, type ChangeKind, type DiagramChange, type DiagramResource } from "./deployment-diagram";

/** What the comment reads of a policy violation and a scorecard row. */
export interface CommentViolation {
  policy: string;
  level: "mandatory" | "advisory";
  resource?: string;
  message: string;
}
export interface CommentTier {
  tier: string;
  redundancy: string;
  spof: boolean;
  accepted?: string;
}

/** One side of the preview: its resources and policy report. */
export interface CommentSide {
  resources: readonly DiagramResource[];
  policies: { violations: readonly CommentViolation[]; scorecard: readonly CommentTier[] };
}

/** A table cell: pipes escaped, line breaks folded. */
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

function table(headers: string[], rows: string[][]): string[] {
  return [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)];
}

/** The policy verdict in words: a mandatory violation fails, advisory ones warn. */
function verdict(violations: readonly CommentViolation[]): string {
  const mandatory = violations.filter((v) => v.level === "mandatory").length;
  const advisory = violations.length - mandatory;
  return mandatory
    ? `❌ policies: ${mandatory} mandatory, ${advisory} advisory violation(s)`
    : advisory
      ? `⚠️ policies: ${advisory} advisory violation(s)`
      : "✅ policies: no violations";
}

function policySection(side: CommentSide, title: string): string[] {
  const v = side.policies.violations;
  const out = [`### ${title}`, ""];
  out.push(
    ...(v.length
      ? table(
          ["level", "policy", "resource", "message"],
          v.map((x) => [x.level, x.policy, x.resource ?? "", x.message]),
        )
      : ["No violations."]),
  );
  out.push("", "### HA scorecard", "");
  out.push(
    ...table(
      ["tier", "verdict", "redundancy"],
      side.policies.scorecard.map((t) => [t.tier, t.accepted ? "accepted" : t.spof ? "**SPOF**" : "redundant", t.redundancy]),
    ),
  );
  return out;
}

function details(summary: string, text: string): string[] {
  // A fence longer than any backtick run in the text, so the text cannot close it.
  const fence = "`".repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return ["<details>", `<summary>${summary}</summary>`, "", `${fence}text`, text.trimEnd(), fence, "", "</details>"];
}

const mermaid = (source: string) => ["```mermaid", source, "```"];

/** The comment for a preview of one stack (no diff). */
export function previewComment(title: string, side: CommentSide, cost: CostEstimate, text: string): string {
  const summary = [
    `${side.resources.length} resources to create`,
    verdict(side.policies.violations),
    `cost ${formatUsd(cost.monthlyUsd)}/month (up to ${formatUsd(cost.maxMonthlyUsd)} at the autoscaler's maximum; ${cost.unpriced.length} unpriced)`,
  ];
  return [
    `## ${title}`,
    "",
    `**${summary.join(" · ")}**`,
    "",
    ...mermaid(deploymentDiagram(side.resources)),
    "",
    ...policySection(side, "Policy verdicts"),
    "",
    ...details("Full preview (text)", text),
    "",
  ].join("\n");
}

/** The comment for a diff between two sides. */
export function diffComment(
  title: string,
  base: CommentSide,
  head: CommentSide,
  changes: readonly (DiagramChange & { op: ChangeKind })[],
  introduced: readonly CommentViolation[],
  cost: CostDelta,
  text: string,
): string {
  const count = (op: ChangeKind) => changes.filter((c) => c.op === op).length;
  const risky = changes.filter((c) => c.dataLossRisk);
  const summary = [
    `${count("create")} to create, ${count("update")} to update, ${count("replace")} to replace, ${count("delete")} to delete`,
    risky.length ? `⚠️ ${risky.length} DATA LOSS RISK (${risky.map((c) => c.name).join(", ")})` : "no data-loss flags",
    verdict(head.policies.violations) + (introduced.length ? ` (${introduced.length} introduced by this change)` : ""),
    `cost ${formatUsd(cost.deltaMonthlyUsd, true)}/month (${formatUsd(cost.beforeMonthlyUsd)} → ${formatUsd(cost.afterMonthlyUsd)}${cost.unpriced.length ? `; ${cost.unpriced.length} unpriced resource(s) left out` : ""})`,
  ];
  const legend = "Marked: `+` create, `~` update, `+-` replace, `-` delete.";
  return [
    `## ${title}`,
    "",
    `**${summary.join(" · ")}**`,
    "",
    ...mermaid(deploymentDiagram(head.resources, changes, base.resources)),
    "",
    legend,
    "",
    ...policySection(head, "Policy verdicts (after the change)"),
    "",
    ...details(`Full diff (${changes.length} change(s))`, text),
    "",
  ].join("\n");
}
