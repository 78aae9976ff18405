/**
 * Regenerates `infra/provider-facts/digitalocean.json` from local checkouts of DigitalOcean's published sources:
 *
 *   npx tsx scripts/provider-facts.ts --pulumi <pulumi-digitalocean> --terraform <terraform-provider-digitalocean> \
 *     --ccm <digitalocean-cloud-controller-manager> --openapi <openapi> [--out <file>]
 *
 * The generator itself is infra/provider-facts/generator/ (what it reads and writes: generate.ts there).
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { FACTS_FILE, generate } from "../infra/provider-facts/generator/generate";
import { REPOSITORIES, type Repo } from "../infra/provider-facts/generator/checkout";

const { values } = parseArgs({
  options: {
    pulumi: { type: "string" },
    terraform: { type: "string" },
    ccm: { type: "string" },
    openapi: { type: "string" },
    out: { type: "string" },
  },
});
const missing = (Object.keys(REPOSITORIES) as Repo[]).filter((r) => !values[r]);
if (missing.length) {
  process.stderr.write(`generate: missing ${missing.map((m) => `--${m} <checkout of ${REPOSITORIES[m]}>`).join(", ")}\n`);
  process.exit(2);
}
// Only the checkouts: `out` is not one (passing it along made Checkout run git in the output file's path).
const facts = generate(Object.fromEntries((Object.keys(REPOSITORIES) as Repo[]).map((r) => [r, values[r]!])) as Record<Repo, string>);
const out = values.out ?? FACTS_FILE;
fs.writeFileSync(out, `${JSON.stringify(facts, null, 2)}\n`);
const count = Object.values(facts.resources).reduce((n, r) => n + Object.keys(r.properties).length, 0);
process.stdout.write(
  `generate: wrote ${out}: ${Object.keys(facts.resources).length} resource types, ${count} property facts, ` +
    `${Object.keys(facts.annotations.known).length} annotations, ${Object.keys(facts.notes).length} notes\n`,
);
