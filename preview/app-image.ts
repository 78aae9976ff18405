/**
 * The app image a commit deploys: `npm run --silent app-image -- [--commit <ref>] [--stack <name>] [--root <dir>]`
 * prints `<repository>:src-<hash>`.
 *
 * The tag is content-addressed: a sha256 over the git blob ids of exactly the files the image is built from
 * (the allowlist in app/Dockerfile.dockerignore, plus the Dockerfile and that allowlist). A commit that changes
 * none of them (infra, policies, docs, tests) names the image already running, so its pull-request preview and
 * its deploy show no image change and roll no pods; a commit that changes any of them names a new image. Every
 * workflow (pull-request preview, deploy, nightly drift check) asks this script, so the image the preview shows,
 * the one the deploy sets and the one the drift check expects are the same. The repository part comes from the
 * stack file's `gomeet:app.image`, whose own tag is what local and offline runs use.
 *
 * Exit 0 with the reference on stdout; 2 with a message naming the bad input (unknown commit or stack, an
 * allowlist that matches nothing).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PreviewInputError, readStackFile } from "./stack-file";

const DOCKERFILE = "app/Dockerfile";
const ALLOWLIST = `${DOCKERFILE}.dockerignore`;

function git(root: string, args: string[]): string {
  return execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
}

/** The `!pattern` lines of a .dockerignore allowlist, plus the Dockerfile and the allowlist itself. */
export function imageInputPatterns(allowlist: string): string[] {
  const patterns = allowlist
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("!"))
    .map((line) => line.slice(1).replace(/^\/+/, ""));
  if (!patterns.length) throw new PreviewInputError(`${ALLOWLIST} admits no file ("!path" lines): the image would have no inputs`);
  return [...patterns, DOCKERFILE, ALLOWLIST];
}

/** A .dockerignore pattern as a regular expression over repository paths (`**` any depth, `*` and `?` within one segment). */
export function patternRegExp(pattern: string): RegExp {
  const source = pattern
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => {
      if (part === "**/") return "(?:.*/)?";
      if (part === "**") return ".*";
      if (part === "*") return "[^/]*";
      if (part === "?") return "[^/]";
      return part.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return new RegExp(`^${source}$`);
}

/** The commit `ref` names; a PreviewInputError naming `ref` when it names none. */
function resolveCommit(root: string, ref: string): string {
  try {
    return git(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]).trim();
  } catch {
    throw new PreviewInputError(`unknown commit "${ref}" in ${root}`);
  }
}

/** `src-` + 16 hex digits of sha256 over `<mode> <blob id> <path>` of every image input at `commit`. */
export function imageTag(root: string, commit: string): string {
  const sha = resolveCommit(root, commit);
  let allowlist: string;
  try {
    allowlist = git(root, ["show", `${sha}:${ALLOWLIST}`]);
  } catch {
    throw new PreviewInputError(`commit ${sha.slice(0, 12)} has no ${ALLOWLIST}: the image inputs are not defined there`);
  }
  const inputs = imageInputPatterns(allowlist).map(patternRegExp);
  const listing = git(root, ["ls-tree", "-r", "--full-tree", sha])
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [meta, file] = line.split("\t") as [string, string];
      const [mode, , blob] = meta.split(" ");
      return { file, entry: `${mode} ${blob} ${file}` };
    })
    .filter(({ file }) => inputs.some((re) => re.test(file)))
    .map(({ entry }) => entry)
    .sort();
  if (!listing.some((l) => l.endsWith(` ${DOCKERFILE}`))) throw new PreviewInputError(`commit ${sha.slice(0, 12)} has no ${DOCKERFILE}`);
  return `src-${createHash("sha256").update(listing.join("\n")).digest("hex").slice(0, 16)}`;
}

/** The image repository of `stack`: its `gomeet:app.image` without the tag or digest. */
export function imageRepository(root: string, stack: string): string {
  const app = readStackFile(root, stack).config["gomeet:app"];
  const image = app === undefined ? undefined : (JSON.parse(app) as { image?: unknown }).image;
  if (typeof image !== "string" || !image)
    throw new PreviewInputError(`Pulumi.${stack}.yaml has no gomeet:app.image to take the repository from`);
  return image.replace(/(@sha256:[a-f0-9]{64}|:[A-Za-z0-9_.-]+)$/, "");
}

/** The image reference for the command line `[--commit <ref>] [--stack <name>] [--root <dir>]`; throws PreviewInputError on bad input. */
export function main(argv: string[]): string {
  const { values } = parseArgs({
    args: argv,
    options: { commit: { type: "string", default: "HEAD" }, stack: { type: "string", default: "prod" }, root: { type: "string" } },
  });
  const root = path.resolve(values.root ?? path.join(__dirname, ".."));
  if (!fs.existsSync(path.join(root, ".git"))) throw new PreviewInputError(`${root} is not a git checkout`);
  return `${imageRepository(root, values.stack!)}:${imageTag(root, values.commit!)}`;
}
