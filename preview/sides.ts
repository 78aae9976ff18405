/**
 * Renders the two sides of a diff: a stack at a git revision (in a temporary worktree) or another stack of
 * the same checkout. Each side renders in its own process (the Pulumi runtime is process-global) with this
 * checkout's renderer and policy pack, so both sides are judged by the same rules.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PreviewDocument } from "./format";
import { PreviewInputError, projectName } from "./stack-file";

/** One rendered side of a diff. */
export interface Side {
  /** What the user named: a git ref, "working tree", or a stack. */
  label: string;
  stack: string;
  /** The commit rendered, for a git revision. */
  commit?: string;
  doc: PreviewDocument;
}

const PREVIEW_SCRIPT = path.resolve(__dirname, "..", "scripts", "preview.ts");

function progress(message: string): void {
  process.stderr.write(`preview: ${message}\n`);
}

/** Renders `stack` of the repository at `root` in a child process and returns its `--json` document. */
export function renderInChild(root: string, stack: string, what: string): Promise<PreviewDocument> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [require.resolve("tsx/cli"), PREVIEW_SCRIPT, "--stack", stack, "--json", "--root", root], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0 || code === 1) {
        try {
          resolve(JSON.parse(stdout) as PreviewDocument);
        } catch (err) {
          reject(new Error(`${what}: the renderer printed no JSON document (${(err as Error).message})`));
        }
        return;
      }
      const message = stderr.trim().replace(/^preview: /, "");
      if (/^unknown stack /.test(message)) reject(new PreviewInputError(`${what} has no Pulumi.${stack}.yaml`));
      else reject(new PreviewInputError(`the program fails at ${what}: ${message}`));
    });
  });
}

function git(root: string, args: string[]): string {
  return execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The commit `ref` names in the repository at `root`; a PreviewInputError when it names none. */
export function resolveCommit(root: string, ref: string): string {
  try {
    return git(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  } catch {
    throw new PreviewInputError(`unknown revision "${ref}": it names no commit in ${root}`);
  }
}

/**
 * Checks `commit` out in a temporary worktree, runs `fn` on it, and removes the worktree. Dependencies are
 * shared with this checkout when the lockfile is unchanged; otherwise they are installed (with progress shown).
 */
export async function withWorktree<T>(root: string, commit: string, fn: (worktree: string) => Promise<T>): Promise<T> {
  const worktree = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-preview-"));
  git(root, ["worktree", "add", "--detach", "--force", worktree, commit]);
  try {
    const lockHere = path.join(root, "package-lock.json");
    const lockThere = path.join(worktree, "package-lock.json");
    const same =
      fs.existsSync(lockThere) && fs.existsSync(lockHere) && fs.readFileSync(lockHere, "utf8") === fs.readFileSync(lockThere, "utf8");
    if (same) {
      fs.symlinkSync(path.join(root, "node_modules"), path.join(worktree, "node_modules"), "dir");
    } else {
      progress(`installing the dependencies of ${commit.slice(0, 12)} (its lockfile differs from this checkout's)...`);
      execFileSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: worktree, stdio: ["ignore", "ignore", "inherit"] });
    }
    return await fn(worktree);
  } finally {
    git(root, ["worktree", "remove", "--force", worktree]);
    fs.rmSync(worktree, { recursive: true, force: true });
  }
}

/** Base = `stack` at git revision `ref`; head = `stack` in the working tree at `root`. */
export async function revisionSides(root: string, stack: string, ref: string): Promise<[Side, Side]> {
  const commit = resolveCommit(root, ref);
  const label = `${ref} (${commit.slice(0, 12)})`;
  progress(`rendering stack ${stack} at ${label} and in the working tree...`);
  return withWorktree(root, commit, async (worktree) => {
    const [base, head] = await Promise.all([
      renderInChild(worktree, stack, `revision ${label}`),
      renderInChild(root, stack, "the working tree"),
    ]);
    return [
      { label: ref, commit, stack, doc: base },
      { label: "working tree", stack, doc: head },
    ];
  });
}

/**
 * Replaces the stack's resource-name prefix (`<project>-<stack>`, e.g. `gomeet-prod`) in resource names and
 * string properties with `<project>-{stack}`, so the same resource of two stacks matches and compares equal.
 */
export function withoutStackName(doc: PreviewDocument, project: string, stack: string): PreviewDocument {
  const prefix = `${project}-${stack}`;
  const token = `${project}-{stack}`;
  const strip = (value: unknown): unknown => {
    if (typeof value === "string") return value.split(prefix).join(token);
    if (Array.isArray(value)) return value.map(strip);
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strip(v)]));
    return value;
  };
  return {
    ...doc,
    resources: doc.resources.map((r) => ({
      ...r,
      name: strip(r.name) as string,
      props: strip(r.props) as Record<string, unknown>,
      ...(r.inputDependencies ? { inputDependencies: strip(r.inputDependencies) as Record<string, string[]> } : {}),
      ...(r.provider ? { provider: strip(r.provider) as string } : {}),
    })),
    policies: { ...doc.policies, violations: doc.policies.violations.map((v) => strip(v) as typeof v) },
  };
}

/** Base = stack `other`; head = `stack`; both from the working tree at `root`, stack names normalised. */
export async function stackSides(root: string, stack: string, other: string): Promise<[Side, Side]> {
  progress(`rendering stacks ${other} and ${stack}...`);
  const [base, head] = await Promise.all([renderInChild(root, other, `stack ${other}`), renderInChild(root, stack, `stack ${stack}`)]);
  const project = projectName(root);
  return [
    { label: `stack ${other}`, stack: other, doc: withoutStackName(base, project, other) },
    { label: `stack ${stack}`, stack, doc: withoutStackName(head, project, stack) },
  ];
}
