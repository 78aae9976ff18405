/** The pull-request workflow posts the offline diff against the base branch (it needs no cloud access). */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { ROOT } from "./plan-helpers";

type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> };
const steps: Step[] = parse(fs.readFileSync(path.join(ROOT, ".github/workflows/pull-request.yml"), "utf8")).jobs.preview.steps;

test("checks out full history so the base branch can be rendered", () => {
  expect(steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with).toMatchObject({ "fetch-depth": 0 });
});

test("renders the diff against the base branch as Markdown, comments it, then fails on its verdict", () => {
  const diff = steps.findIndex((s) =>
    /npm run --silent preview -- --stack prod --diff "origin\/\$\{\{ github\.base_ref \}\}" --format markdown > diff\.md/.test(s.run ?? ""),
  );
  expect(diff).toBeGreaterThanOrEqual(0);
  expect(steps[diff]!.run).toContain('>> "$GITHUB_STEP_SUMMARY"');
  const comment = steps.findIndex((s) => s.uses?.startsWith("marocchino/sticky-pull-request-comment@"));
  expect(comment).toBeGreaterThan(diff);
  expect(steps[comment]!.with).toMatchObject({ path: "diff.md" });
  const verdict = steps.findIndex((s) => s.if === "steps.diff.outputs.exit != '0'");
  expect(verdict).toBeGreaterThan(comment);
});
