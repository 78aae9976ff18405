/**
 * The house rules `npm run lint` enforces (eslint.config.mjs), each shown failing on a fixture and passing
 * where the rule allows: no file over 400 lines, no import circle, and the folder directions (app and infra
 * never import each other, the policy pack never imports the offline engine, nothing outside test/ imports
 * test code, nothing imports scripts/). Also: policies/ holds the pack only.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

interface LintCase {
  /** Repository-relative path the code is linted as (the file need not exist), or the fixture to lint. */
  filePath: string;
  code?: string;
}
interface LintResult {
  filePath: string;
  messages: Array<{ ruleId: string | null; message: string }>;
}

/** Lints every case in one ESLint process (loading the config costs seconds; once is enough). */
function lint(cases: LintCase[]): Map<string, LintResult["messages"]> {
  const run = spawnSync(process.execPath, [path.join(__dirname, "run-eslint.mjs")], {
    cwd: ROOT,
    input: JSON.stringify(cases),
    encoding: "utf8",
    maxBuffer: 16 << 20,
  });
  if (run.status !== 0) throw new Error(`run-eslint.mjs exited ${run.status}: ${run.stderr}`);
  const results = JSON.parse(run.stdout) as LintResult[];
  return new Map(results.map((r) => [r.filePath, r.messages]));
}

const lines = (count: number) => Array.from({ length: count }, (_, i) => `export const line${i} = ${i};`).join("\n") + "\n";

const BOUNDARY_CASES: Array<[string, string, string, boolean]> = [
  // [what, file linted as, import, allowed]
  ["app imports infra", "app/src/fixture.ts", "../../infra/type-tokens", false],
  ["infra imports app", "infra/fixture.ts", "../app/src/ids", false],
  ["the policy pack imports the offline engine", "policies/rules/fixture.ts", "../../preview/plan", false],
  ["harness imports test code", "harness/fixture.ts", "../test/infra/plan-helpers", false],
  ["a library imports an entry point of scripts/", "preview/fixture.ts", "../scripts/preview", false],
  ["a test imports an entry point of scripts/", "test/infra/fixture.ts", "../../scripts/app-image", false],
  ["the offline engine imports the policy pack", "preview/fixture.ts", "../policies/policies", true],
  ["a scripts/ entry imports its library", "scripts/fixture.ts", "../harness/cluster/cluster", true],
  ["a test imports the harness", "test/app/fixture.ts", "../../harness/ports", true],
];

let results: Map<string, LintResult["messages"]>;

beforeAll(() => {
  results = lint([
    { filePath: "harness/too-long.ts", code: lines(401) },
    { filePath: "harness/long-enough.ts", code: lines(400) },
    { filePath: "test/lint/fixtures/cycle/first.ts" },
    ...BOUNDARY_CASES.map(([, filePath, specifier], i) => ({
      filePath: filePath.replace(/\.ts$/, `-${i}.ts`),
      code: `import * as imported from "${specifier}";\n\nexport const used = imported;\n`,
    })),
  ]);
}, 120_000);

const rulesOf = (filePath: string) => (results.get(filePath) ?? []).map((m) => m.ruleId);

test("a file over 400 lines fails max-lines; 400 lines pass", () => {
  expect(rulesOf("harness/too-long.ts")).toEqual(["max-lines"]);
  expect(rulesOf("harness/long-enough.ts")).toEqual([]);
});

test("an import circle fails import-x/no-cycle", () => {
  expect(rulesOf("test/lint/fixtures/cycle/first.ts")).toEqual(["import-x/no-cycle"]);
});

const boundaryTests = BOUNDARY_CASES.map(([what, filePath, specifier, allowed], i) => ({
  what,
  verdict: allowed ? "allowed" : "refused by import-x/no-restricted-paths",
  linted: filePath.replace(/\.ts$/, `-${i}.ts`),
  specifier,
  allowed,
}));

test.each(boundaryTests)("$what: $verdict", ({ linted, allowed }) => {
  const messages = results.get(linted) ?? [];
  if (allowed) expect(messages).toEqual([]);
  else expect(messages).toEqual([expect.objectContaining({ ruleId: "import-x/no-restricted-paths" })]);
});

test("policies/ holds the pack only: at most five top-level files", () => {
  const files = fs.readdirSync(path.join(ROOT, "policies"), { withFileTypes: true }).filter((entry) => entry.isFile());
  expect(files.length).toBeLessThanOrEqual(5);
});

test("no file or folder under app/src is named redis", () => {
  const entries = fs.readdirSync(path.join(ROOT, "app/src"), { recursive: true, encoding: "utf8" });
  expect(entries.filter((entry) => /redis/i.test(path.basename(entry)))).toEqual([]);
});
