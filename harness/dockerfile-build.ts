/**
 * Builds the app the way app/Dockerfile does, without Docker: the Dockerfile's own instructions, read from
 * it, so a build the image would get wrong (a Lua directory not copied, a build command that no longer
 * matches the layout) fails here too.
 *
 * The build stage (`FROM … AS build`) runs in a scratch directory standing for its WORKDIR: each `COPY
 * <src>… <dest>` copies from the repository, each `RUN` runs with `sh -c` there, except `npm ci` (no
 * registry here: the repository's node_modules is linked instead). The runtime stage's layout is then made
 * the same way: its WORKDIR holds only what its `COPY` lines put there (app/package.json and the build's
 * dist/: no sources, so nothing can be read from app/src by accident); `CMD` and `ENV` are how it starts.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..");
export const APP_DOCKERFILE = path.join(REPO_ROOT, "app/Dockerfile");

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  /** `FROM <image> [AS <name>]`: the name, or the index as a string. */
  name: string;
  instructions: Instruction[];
}

/** The stages of a Dockerfile: continuation lines joined, comments and parser directives dropped. */
export function dockerfileStages(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, " ").split("\n");
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, " ").trim() };
    if (instruction.keyword === "FROM") {
      const name = /\bAS\s+(\S+)$/i.exec(instruction.args)?.[1] ?? String(stages.length);
      stages.push({ name, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** `CMD ["node", "dist/main.js"]` (exec form) as argv. */
export function execForm(args: string): string[] {
  const argv: unknown = JSON.parse(args);
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string")) throw new Error(`not an exec-form CMD: ${args}`);
  return argv;
}

function stageNamed(stages: Stage[], name: string): Stage {
  const stage = stages.find((s) => s.name === name);
  if (stage === undefined) throw new Error(`app/Dockerfile has no stage named "${name}"`);
  return stage;
}

function workdirOf(stage: Stage): string {
  const workdir = stage.instructions.filter((i) => i.keyword === "WORKDIR").at(-1)?.args;
  if (workdir === undefined) throw new Error(`app/Dockerfile stage "${stage.name}" sets no WORKDIR`);
  return workdir;
}

/** Where an absolute image path lands under `root` (the scratch directory stands for the image's /). */
const under = (root: string, imagePath: string) => path.join(root, imagePath);

/** `COPY <sources>… <dest>`: dest relative to the stage's WORKDIR; a dest ending in / (or ".") is a directory. */
function copyInto(sources: string[], dest: string, workdir: string, fromDir: string): void {
  const intoDir = dest.endsWith("/") || dest === "." || sources.length > 1;
  const target = path.resolve(workdir, dest);
  for (const source of sources) {
    const from = path.join(fromDir, source);
    if (!fs.existsSync(from)) throw new Error(`app/Dockerfile copies ${source}, which does not exist`);
    const to = intoDir && !fs.statSync(from).isDirectory() ? path.join(target, path.basename(source)) : target;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.cpSync(from, to, { recursive: true });
  }
}

/**
 * Runs the build and runtime stages of app/Dockerfile under `scratch`; returns how to start the result:
 * the runtime WORKDIR and its CMD. `node_modules` of the repository stands for both stages' npm ci.
 */
export function buildLikeDockerfile(
  scratch: string,
  dockerfile = APP_DOCKERFILE,
): { cwd: string; command: string[]; env: Record<string, string> } {
  const stages = dockerfileStages(fs.readFileSync(dockerfile, "utf8"));
  const build = stageNamed(stages, "build");
  const buildDir = under(scratch, workdirOf(build));
  fs.mkdirSync(buildDir, { recursive: true });
  for (const { keyword, args } of build.instructions) {
    if (keyword === "COPY") {
      const parts = args.split(" ");
      copyInto(parts.slice(0, -1), parts.at(-1) ?? "", buildDir, REPO_ROOT);
    } else if (keyword === "RUN" && /^npm ci\b/.test(args)) {
      fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(buildDir, "node_modules"), "dir");
    } else if (keyword === "RUN") {
      execFileSync("sh", ["-c", args], { cwd: buildDir, stdio: ["ignore", "pipe", "pipe"], env: process.env });
    }
  }

  const runtime = stages.at(-1) as Stage;
  const workdir = under(scratch, workdirOf(runtime));
  fs.mkdirSync(workdir, { recursive: true });
  for (const { keyword, args } of runtime.instructions) {
    if (keyword !== "COPY") continue;
    const fromStage = /^--from=(\S+) /.exec(args)?.[1];
    const parts = args.replace(/^--from=\S+ /, "").split(" ");
    const dest = parts.at(-1) ?? "";
    if (fromStage === "build") copyInto(parts.slice(0, -1), dest, workdir, scratch);
    else if (fromStage === undefined) copyInto(parts.slice(0, -1), dest, workdir, REPO_ROOT);
    // --from=deps is the production node_modules: the repository's, linked below.
  }
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(path.dirname(workdir), "node_modules"), "dir");
  const cmd = runtime.instructions.filter((i) => i.keyword === "CMD").at(-1);
  if (cmd === undefined) throw new Error("app/Dockerfile's runtime stage has no CMD");
  const env = Object.fromEntries(
    runtime.instructions.filter((i) => i.keyword === "ENV").map((i) => /^([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/.exec(i.args)?.slice(1) ?? []),
  ) as Record<string, string>;
  return { cwd: workdir, command: execForm(cmd.args), env };
}
