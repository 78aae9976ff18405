/**
 * `npm run --silent drift-report -- --json drift.json --stderr drift.err --exit <code>`: the nightly drift check's
 * job summary in Markdown (what it says and how: preview/drift-report.ts). Exit 0 with the report on stdout; 2 on
 * bad arguments.
 */
import { main } from "../preview/drift-report";

try {
  process.stdout.write(`${main(process.argv.slice(2))}\n`);
} catch (err) {
  process.stderr.write(`drift-report: ${(err as Error).message}\n`);
  process.exit(2);
}
