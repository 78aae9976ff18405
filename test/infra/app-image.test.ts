/**
 * `npm run app-image`: the content-addressed image reference every workflow previews, deploys and checks
 * drift against, on real commits in a temporary git repository.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { imageInputPatterns, patternRegExp } from "../../preview/app-image";
import { ROOT } from "./plan-helpers";

let repo: string;
const git = (...args: string[]) =>
  execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { encoding: "utf8" });
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
  fs.writeFileSync(path.join(repo, file), text);
};
const commit = (message: string) => {
  git("add", "-A");
  git("commit", "-qm", message);
};
function appImage(...args: string[]) {
  const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
  const r = spawnSync(tsx, [path.join(ROOT, "scripts", "app-image.ts"), "--root", repo, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}
const image = (...args: string[]) => {
  const r = appImage(...args);
  if (r.status !== 0) throw new Error(`app-image failed: ${r.stderr}`);
  return r.stdout;
};

beforeAll(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-app-image-"));
  git("init", "-q", "-b", "main");
  for (const f of ["Pulumi.yaml", "Pulumi.prod.yaml", "app/Dockerfile", "app/Dockerfile.dockerignore", "package.json", "tsconfig.json"]) {
    write(f, fs.readFileSync(path.join(ROOT, f), "utf8"));
  }
  write("package-lock.json", '{"lockfileVersion": 3}\n');
  write("policies/package.json", "{}\n");
  write("app/package.json", '{"name": "gomeet-app"}\n');
  write("app/tsconfig.json", "{}\n");
  write("app/src/main.ts", "export const version = 1;\n");
  write("app/src/realtime/lua/presence.lua", "-- KEYS[1]\n");
  write("infra/index.ts", "export {};\n");
  write("README.md", "# test\n");
  commit("base");
});
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

test("prints the stack's image repository with a content tag", () => {
  expect(image()).toMatch(/^registry\.digitalocean\.com\/gomeet\/app:src-[0-9a-f]{16}$/);
});

test("a commit that touches no image input names the running image: no image change, no rolled pods", () => {
  const before = image();
  write("infra/index.ts", "export const changed = true;\n");
  write("README.md", "# changed\n");
  write("Pulumi.prod.yaml", fs.readFileSync(path.join(repo, "Pulumi.prod.yaml"), "utf8").replace("minNodes: 3", "minNodes: 4"));
  write("app/README.md", "not copied into the image\n");
  commit("infra and docs only");
  expect(image()).toBe(before);
});

test.each([
  ["the app's source", "app/src/main.ts", "export const version = 2;\n"],
  ["a Lua script", "app/src/realtime/lua/presence.lua", "-- KEYS[1] changed\n"],
  ["the lockfile", "package-lock.json", '{"lockfileVersion": 3, "changed": true}\n'],
  ["the Dockerfile", "app/Dockerfile", "FROM scratch\n"],
])("a commit that changes %s names a new image; the previous commit still names the old one", (_what, file, text) => {
  const before = image();
  write(file, text);
  commit(`change ${file}`);
  const after = image();
  expect(after).not.toBe(before);
  expect(image("--commit", "HEAD~1")).toBe(before);
});

test("bad input: an unknown commit or stack exits 2 naming it", () => {
  expect(appImage("--commit", "no-such-ref")).toMatchObject({ status: 2, stderr: `app-image: unknown commit "no-such-ref" in ${repo}` });
  expect(appImage("--stack", "nope")).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown stack "nope"') });
  expect(appImage("--bogus")).toMatchObject({ status: 2, stderr: expect.stringContaining("--bogus") });
});

test("an allowlist that admits nothing is refused", () => {
  expect(() => imageInputPatterns("**\n")).toThrow('app/Dockerfile.dockerignore admits no file ("!path" lines)');
});

test("the inputs cover every file the real Dockerfile copies from the build context", () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, "app", "Dockerfile"), "utf8");
  const patterns = imageInputPatterns(fs.readFileSync(path.join(ROOT, "app", "Dockerfile.dockerignore"), "utf8")).map(patternRegExp);
  const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  expect(sources.length).toBeGreaterThan(3);
  const tracked = execFileSync("git", ["-C", ROOT, "ls-files"], { encoding: "utf8" }).split("\n");
  for (const source of sources) {
    const files = tracked.filter((f) => f === source || f.startsWith(`${source}/`));
    expect([source, files.length > 0]).toEqual([source, true]);
    for (const f of files) expect([f, patterns.some((re) => re.test(f))]).toEqual([f, true]);
  }
});
