/** The pull-request comment's Markdown: the one-line summary, the diagram, the tables and the folded text. */
import { TYPE } from "../../infra/type-tokens";
import { diffComment, previewComment, type CommentSide } from "../../preview/markdown/pull-request-comment";

const side = (violations: CommentSide["policies"]["violations"] = []): CommentSide => ({
  resources: [{ type: TYPE.databaseCluster, name: "pg", props: { engine: "pg", size: "db-s-2vcpu-4gb", nodeCount: 2, region: "nyc3" } }],
  policies: { violations, scorecard: [{ tier: "PostgreSQL", redundancy: "2 nodes | primary + standby", spof: false }] },
});
const cost = { beforeMonthlyUsd: 204, afterMonthlyUsd: 252, deltaMonthlyUsd: 48, unpriced: ["pg"] };

test("a diff: one summary line with the counts, data-loss flags, the verdict and the cost delta", () => {
  const md = diffComment(
    "Offline preview diff",
    side(),
    side([{ policy: "pg-ha", level: "mandatory", resource: "pg", message: "nodeCount 1 | needs 2" }]),
    [
      { op: "replace", type: TYPE.databaseCluster, name: "pg", dataLossRisk: true },
      { op: "update", type: TYPE.secret, name: "s" },
    ],
    [{ policy: "pg-ha", level: "mandatory", resource: "pg", message: "nodeCount 1 | needs 2" }],
    cost,
    "the text diff ``` with a fence",
  );
  expect(md.split("\n")[2]).toBe(
    "**0 to create, 1 to update, 1 to replace, 0 to delete · ⚠️ 1 DATA LOSS RISK (pg) · ❌ policies: 1 mandatory, 0 advisory violation(s) (1 introduced by this change) · cost +$48.00/month ($204.00 → $252.00; 1 unpriced resource(s) left out)**",
  );
  expect(md).toContain('DatabaseCluster_pg["+- PostgreSQL<br/>2 node(s) db-s-2vcpu-4gb<br/>DATA LOSS RISK"]:::replace');
  expect(md).toContain("| mandatory | pg-ha | pg | nodeCount 1 \\| needs 2 |");
  expect(md).toContain("| PostgreSQL | redundant | 2 nodes \\| primary + standby |");
  // The folded text cannot close its own fence.
  expect(md).toContain("````text\nthe text diff ``` with a fence\n````");
});

test("a single stack: resource count, verdict and monthly cost with the maximum", () => {
  const md = previewComment(
    "Offline preview: stack prod",
    side(),
    { monthlyUsd: 204, maxMonthlyUsd: 348, lines: [], unpriced: [], priceSource: { file: "f", read: "2026-12-07", urls: [] } },
    "tree",
  );
  expect(md).toContain(
    "**1 resources to create · ✅ policies: no violations · cost $204.00/month (up to $348.00 at the autoscaler's maximum; 0 unpriced)**",
  );
  expect(md).toContain("```mermaid\nflowchart LR");
});
