// Runs ESLint's Node API with the repository's own eslint.config.mjs, in a process of its own (jest's module
// sandbox cannot load an ES-module config). Reads [{ filePath, code? }] as JSON on stdin: with code, lints that
// text as if it were filePath (no file needed); without, lints the file on disk (ignores off, so the fixtures
// that `npm run lint` skips are checked). Writes [{ filePath, messages: [{ ruleId, message }] }] as JSON.
import { ESLint } from "eslint";
import { readFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";

const root = path.resolve(import.meta.dirname, "../..");
const eslint = new ESLint({ cwd: root, ignore: false });
const cases = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const { filePath, code } of cases) {
  const [result] =
    code === undefined
      ? await eslint.lintFiles([path.join(root, filePath)])
      : await eslint.lintText(code, { filePath: path.join(root, filePath) });
  results.push({ filePath, messages: result.messages.map(({ ruleId, message }) => ({ ruleId, message })) });
}
process.stdout.write(JSON.stringify(results));
