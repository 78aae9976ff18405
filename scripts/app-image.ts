/**
 * `npm run --silent app-image -- [--commit <ref>] [--stack <name>] [--root <dir>]`: prints the app image a commit
 * deploys, `<repository>:src-<hash>` (how the tag is made: preview/app-image.ts).
 *
 * Exit 0 with the reference on stdout; 2 with a message naming the bad input.
 */
import { main } from "../preview/app-image";
import { PreviewInputError } from "../preview/stack-file";

try {
  process.stdout.write(`${main(process.argv.slice(2))}\n`);
} catch (err) {
  const known = err instanceof PreviewInputError || String((err as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS");
  process.stderr.write(`app-image: ${known ? (err as Error).message : ((err as Error).stack ?? String(err))}\n`);
  process.exit(2);
}
