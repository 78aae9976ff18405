/** Readable and JSON forms of a plan diff. */
import type { Violation } from "./plan";
import { formatCostDelta, type CostDelta } from "./cost/estimate";
import type { Change, PlanDiff } from "./diff";
import type { Side } from "./sides";

const SYMBOL: Record<Change["op"], string> = { create: "+", update: "~", replace: "+-", delete: "-" };

/** A value as the readable diff prints it: JSON, long objects cut (the `--json` document has them whole). */
const show = (v: unknown) => {
  if (v === undefined) return "(none)";
  const text = JSON.stringify(v);
  return typeof v === "object" && v !== null && text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** A side as `--json` describes it. */
function describeSide(side: Side) {
  return { label: side.label, stack: side.stack, ...(side.commit ? { commit: side.commit } : {}) };
}

/** The `--json` document of a diff. */
export function diffDocument(base: Side, head: Side, diff: PlanDiff, cost?: CostDelta) {
  return { base: describeSide(base), head: describeSide(head), changes: diff.changes, policies: diff.policies, ...(cost ? { cost } : {}) };
}

function violationLine(prefix: string, v: Violation): string {
  return `  ${prefix} [${v.level}] ${v.policy}${v.resource ? ` (${v.resource})` : ""}: ${v.message}`;
}

/** The Pulumi-style readable diff. */
export function formatDiff(base: Side, head: Side, diff: PlanDiff, cost?: CostDelta): string {
  const title = base.stack === head.stack ? `stack ${head.stack}: ${base.label} → ${head.label}` : `${base.label} → ${head.label}`;
  const lines = [`GoMeet offline preview diff, ${title}`, ""];
  if (!diff.changes.length) lines.push("No changes.");
  for (const c of diff.changes) {
    const flags = [
      c.op === "replace" ? "[replace]" : "",
      c.deleteBeforeReplace ? "[delete before replace]" : "",
      c.imported ? `[import ${c.imported}: adopted, nothing created]` : "",
      c.retained ? "[retained: removed from the state only, the cloud resource stays]" : "",
      c.dataLossRisk ? "[DATA LOSS RISK]" : "",
      c.protected ? "[protected: Pulumi will refuse until protect is lifted]" : "",
    ];
    lines.push(`  ${SYMBOL[c.op].padEnd(2)} ${c.type}  ${c.name}  ${flags.filter(Boolean).join(" ")}`.trimEnd());
    for (const d of c.diffs) {
      const next = d.unknown !== undefined ? `(known after apply: ${d.unknown})` : show(d.new);
      lines.push(`        ${d.path}: ${show(d.old)} → ${next}${d.replaces ? "  (forces replacement)" : ""}`);
    }
  }
  const count = (op: Change["op"]) => diff.changes.filter((c) => c.op === op).length;
  lines.push(
    "",
    `${diff.changes.length} change(s): ${count("create")} to create, ${count("update")} to update, ${count("replace")} to replace, ${count("delete")} to delete.`,
  );
  const risky = diff.changes.filter((c) => c.dataLossRisk);
  if (risky.length) {
    lines.push(
      `WARNING: ${risky.length} change(s) would destroy a database cluster and its data: ${risky.map((c) => `${c.name} (${c.op})`).join(", ")}.`,
    );
  }
  if (cost) lines.push(formatCostDelta(cost));
  const headViolations = head.doc.policies.violations;
  lines.push(
    "",
    `Policies: ${base.label} has ${base.doc.policies.violations.length} violation(s), ${head.label} has ${headViolations.length}; ` +
      `the change introduces ${diff.policies.introduced.length} and fixes ${diff.policies.fixed.length}.`,
  );
  for (const v of diff.policies.introduced) lines.push(violationLine("introduced ✗", v));
  for (const v of diff.policies.fixed) lines.push(violationLine("fixed ✓", v));
  return lines.join("\n");
}
