/**
 * Which browser the browser tests launch (harness/browser.ts): $GOMEET_BROWSER first, else the first non-snap
 * chromium / Google Chrome on PATH, and an error naming the choices when there is none. Fake executables in a
 * temporary directory stand in for the browsers.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findBrowser, isSnap } from "../../harness/browser";

let dir: string;
const executable = (name: string, text = "#!/bin/sh\nexit 0\n"): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o755 });
  return file;
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-browsers-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("findBrowser", () => {
  it("takes GOMEET_BROWSER over anything on PATH, and refuses one that is not an executable file", () => {
    executable("chromium");
    const chrome = executable("my-chrome");
    expect(findBrowser({ PATH: dir, GOMEET_BROWSER: chrome })).toBe(chrome);
    expect(() => findBrowser({ PATH: dir, GOMEET_BROWSER: path.join(dir, "nothing") })).toThrow(
      `GOMEET_BROWSER=${path.join(dir, "nothing")} is not an executable file`,
    );
  });

  it("prefers chromium, then Google Chrome (the runner image's), then chromium-browser", () => {
    const browser = executable("chromium-browser");
    expect(findBrowser({ PATH: dir })).toBe(browser);
    const chrome = executable("google-chrome");
    expect(findBrowser({ PATH: dir })).toBe(chrome);
    const stable = executable("google-chrome-stable");
    expect(findBrowser({ PATH: dir })).toBe(stable);
    const chromium = executable("chromium");
    expect(findBrowser({ PATH: dir })).toBe(chromium);
  });

  it("skips Ubuntu's snap wrapper and says so when nothing else is there", () => {
    const wrapper = executable("chromium-browser", '#!/bin/sh\nexec /snap/bin/chromium "$@"\n');
    expect(isSnap(wrapper)).toBe(true);
    expect(() => findBrowser({ PATH: dir })).toThrow(
      new RegExp(`^no browser found: .*skipped ${wrapper} \\(a snap\\)\\. .*set GOMEET_BROWSER to a Chromium-based browser$`),
    );
    const chrome = executable("google-chrome");
    expect(findBrowser({ PATH: dir })).toBe(chrome);
  });
});

describe("every browser the tests launch", () => {
  it("is the one findBrowser names: no test or tool launches a browser by a path of its own", () => {
    const root = path.join(__dirname, "..", "..");
    const launches: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith(".ts")) {
          for (const line of fs.readFileSync(file, "utf8").split("\n")) {
            if (/executablePath\s*:/.test(line) && !line.includes("/executablePath"))
              launches.push(`${path.relative(root, file)}: ${line.trim()}`);
          }
        }
      }
    };
    for (const dir of ["test", "harness", "drills", "bench", "preview", "scripts"])
      if (fs.existsSync(path.join(root, dir))) walk(path.join(root, dir));
    expect(launches.length).toBeGreaterThan(0);
    expect(launches.filter((l) => !l.includes("executablePath: findBrowser()"))).toEqual([]);
  });
});
