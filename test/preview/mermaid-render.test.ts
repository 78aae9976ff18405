/**
 * The Mermaid the preview emits really renders: the `mermaid` package's browser bundle, loaded into the Chromium the
 * browser tests drive (harness/browser.ts: Debian's chromium, Google Chrome or $GOMEET_BROWSER; by puppeteer-core), renders the deployment diagram of the prod plan, plain and with
 * every kind of change marked; a diagram with a syntax error is refused (so a broken one would fail this test).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { findBrowser } from "../../harness/browser";
import { TYPE } from "../../infra/type-tokens";
import { deploymentDiagram, type DiagramChange } from "../../preview/markdown/deployment-diagram";
import { ROOT, renderRepoStack } from "../infra/plan-helpers";

const MERMAID = path.join(ROOT, "node_modules", "mermaid", "dist", "mermaid.min.js");

let browser: Browser;
let page: Page;
let resources: { type: string; name: string; props: Record<string, unknown>; provider?: string }[];

beforeAll(async () => {
  const plan = await renderRepoStack("prod");
  const refs = new Map(plan.resources.map((r) => [r.urn, `${r.type}::${r.name}`]));
  resources = plan.resources
    .filter((r) => r.custom)
    .map((r) => ({ type: r.type, name: r.name, props: r.props, ...(r.provider ? { provider: refs.get(r.provider) } : {}) }));
  browser = await puppeteer.launch({ executablePath: findBrowser(), headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage();
  await page.setContent("<!doctype html><html><body></body></html>");
  await page.addScriptTag({ path: MERMAID });
  await page.evaluate(() =>
    (globalThis as unknown as { mermaid: { initialize(c: object): void } }).mermaid.initialize({ startOnLoad: false }),
  );
}, 90_000);

afterAll(async () => {
  await browser?.close();
});

/** Renders `source` in the page; the SVG, or the error Mermaid threw. */
function render(source: string): Promise<{ svg?: string; error?: string }> {
  return page.evaluate(async (text) => {
    const m = (globalThis as unknown as { mermaid: { render(id: string, t: string): Promise<{ svg: string }> } }).mermaid;
    try {
      return { svg: (await m.render(`d${Math.random().toString(36).slice(2)}`, text)).svg };
    } catch (error) {
      return { error: String(error) };
    }
  }, source);
}

test("the prod deployment diagram renders, with its region, tiers and redundancy", async () => {
  const result = await render(deploymentDiagram(resources));
  expect(result.error).toBeUndefined();
  expect(result.svg).toContain("<svg");
  for (const text of ["region nyc3", "PostgreSQL", "Valkey", "read-only node", "REGIONAL load balancer", "HA control plane"])
    expect(result.svg).toContain(text);
  expect(result.svg).toMatch(/\d+–\d+ nodes s-/);
});

test("a diff with every kind of change marked renders, each marked node styled by its kind", async () => {
  const changes: DiagramChange[] = [
    { op: "update", type: TYPE.kubernetesCluster, name: "gomeet-prod-doks" },
    { op: "replace", type: TYPE.databaseCluster, name: "gomeet-prod-valkey", dataLossRisk: true },
    { op: "create", type: TYPE.databaseReplica, name: "gomeet-prod-pg-replica-1" },
    { op: "delete", type: TYPE.databaseCluster, name: "gomeet-prod-old" },
    { op: "update", type: TYPE.secret, name: "gomeet-prod-secrets" },
  ];
  const base = [
    ...resources,
    { type: TYPE.databaseCluster, name: "gomeet-prod-old", props: { engine: "pg", size: "db-s-1vcpu-2gb", nodeCount: 1, region: "nyc3" } },
  ];
  const source = deploymentDiagram(resources, changes, base);
  expect(source).toMatch(/:::delete/);
  const result = await render(source);
  expect(result.error).toBeUndefined();
  for (const text of ["DATA LOSS RISK", "+- Valkey", "- PostgreSQL", "1 other resource change(s)"]) expect(result.svg).toContain(text);
  for (const kind of ["create", "update", "replace", "delete"]) expect(result.svg).toMatch(new RegExp(`class="[^"]*\\b${kind}\\b`));
});

test("a broken diagram fails to render (the check above can fail)", async () => {
  const broken = deploymentDiagram(resources).replace('["region nyc3"]', '["region nyc3"');
  const result = await render(broken);
  expect(result.svg).toBeUndefined();
  expect(result.error).toMatch(/Parse error|Syntax error|Expecting/i);
});

test("every Mermaid picture in the README and docs renders", async () => {
  const files = [
    "README.md",
    ...fs
      .readdirSync(path.join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ];
  const blocks = files.flatMap((f) =>
    [...fs.readFileSync(path.join(ROOT, f), "utf8").matchAll(/^( *)```mermaid\n([\s\S]*?)^\1```/gm)].map((m) => ({
      file: f,
      source: m[2]!,
    })),
  );
  expect(blocks.map((b) => b.file)).toEqual(expect.arrayContaining(["README.md", "docs/preview.md"]));
  for (const b of blocks) expect({ file: b.file, error: (await render(b.source)).error }).toEqual({ file: b.file, error: undefined });
});
