/**
 * The app as JavaScript for the cluster's instances: app/src transpiled file by file (the build's
 * tsconfig has isolatedModules, so that is exact) into node_modules/.cache, keyed by a hash of the
 * sources, with inline source maps. An instance then starts in about half the CPU time it needs
 * under tsx, which counts three times at start-up and once per restart in the drills. No type
 * checking here: `npm test` does that.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { REPO_ROOT } from "./app-instance";

const APP_DIR = path.join(REPO_ROOT, "app");
const SOURCE_DIR = path.join(APP_DIR, "src");
const CACHE_DIR = path.join(REPO_ROOT, "node_modules/.cache/gomeet-cluster");
/** Builds older than this are removed when a new one is written (a running cluster may still use a recent one). */
const STALE_MS = 24 * 60 * 60 * 1000;

/** Files under `dir` whose name ends with `suffix` (".ts" leaves out declaration files). */
function sourceFiles(dir: string, suffix = ".ts"): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(file, suffix);
      return entry.name.endsWith(suffix) && !entry.name.endsWith(".d.ts") ? [file] : [];
    })
    .sort();
}

function compilerOptions(): ts.CompilerOptions {
  const configFile = path.join(APP_DIR, "tsconfig.json");
  const read = ts.readConfigFile(configFile, (file) => ts.sys.readFile(file));
  if (read.error !== undefined) throw new Error(`app build: ${ts.flattenDiagnosticMessageText(read.error.messageText, "\n")}`);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, APP_DIR);
  return { ...parsed.options, noEmit: false, sourceMap: false, inlineSourceMap: true, inlineSources: true, declaration: false };
}

function removeStaleBuilds(keep: string): void {
  for (const entry of fs.readdirSync(CACHE_DIR)) {
    const dir = path.join(CACHE_DIR, entry);
    if (dir === keep) continue;
    try {
      if (Date.now() - fs.statSync(dir).mtimeMs > STALE_MS) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}

/** The path of main.js built from the current app/src (built now if this version was never built). */
export function compiledAppEntry(): string {
  const files = sourceFiles(SOURCE_DIR);
  // The Valkey scripts (src/<owner>/lua/**/*.lua) are read at run time beside the code, as in the image.
  const assets = sourceFiles(SOURCE_DIR, ".lua");
  const hash = createHash("sha256");
  for (const file of assets) hash.update(path.relative(SOURCE_DIR, file)).update("\0").update(fs.readFileSync(file)).update("\0");
  const contents = files.map((file) => {
    const text = fs.readFileSync(file, "utf8");
    hash.update(path.relative(SOURCE_DIR, file)).update("\0").update(text).update("\0");
    return text;
  });
  const target = path.join(CACHE_DIR, `app-${hash.digest("hex").slice(0, 16)}`);
  const entry = path.join(target, "main.js");
  if (fs.existsSync(entry)) return entry;

  const options = compilerOptions();
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  // Build beside the target and rename: a cluster starting at the same time never sees half a build.
  const staging = fs.mkdtempSync(`${target}.building-`);
  try {
    files.forEach((file, i) => {
      const output = ts.transpileModule(contents[i] as string, { compilerOptions: options, fileName: file, reportDiagnostics: true });
      const problems = (output.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
      if (problems.length > 0) {
        throw new Error(
          `app build: ${path.relative(REPO_ROOT, file)}: ${problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, " ")).join("; ")}`,
        );
      }
      const out = path.join(staging, path.relative(SOURCE_DIR, file)).replace(/\.ts$/, ".js");
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, output.outputText);
    });
    for (const file of assets) {
      const out = path.join(staging, path.relative(SOURCE_DIR, file));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.copyFileSync(file, out);
    }
    try {
      fs.renameSync(staging, target);
    } catch (error) {
      // Someone else finished the same build first.
      if (!fs.existsSync(entry)) throw error;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  removeStaleBuilds(target);
  return entry;
}
