/**
 * The browser the browser tests drive (puppeteer-core launches it; nothing is downloaded): $GOMEET_BROWSER when
 * set, else the first of chromium, google-chrome-stable, google-chrome and chromium-browser on PATH that is not a
 * snap. Debian has a `chromium` package. GitHub's ubuntu-latest image has Google Chrome (/usr/bin/google-chrome) and
 * a Chromium snapshot linked at /usr/bin/chromium (actions/runner-images@24a738efd420:
 * images/ubuntu/scripts/build/install-google-chrome.sh). Ubuntu's own chromium-browser package installs a snap,
 * whose confinement does not let it read the harness's temporary directories: skipped.
 */
import fs from "node:fs";
import path from "node:path";

export const BROWSER_ENV = "GOMEET_BROWSER";
export const BROWSER_NAMES = ["chromium", "google-chrome-stable", "google-chrome", "chromium-browser"] as const;

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A snap, or Ubuntu's wrapper script that runs one (/usr/bin/chromium-browser: `exec /snap/bin/chromium`). */
export function isSnap(file: string): boolean {
  const real = fs.realpathSync(file);
  if (real.startsWith("/snap/")) return true;
  const head = Buffer.alloc(4096);
  const fd = fs.openSync(real, "r");
  try {
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).toString("latin1").startsWith("#!") && head.subarray(0, n).toString("latin1").includes("/snap/bin/");
  } finally {
    fs.closeSync(fd);
  }
}

/** The browser's absolute path; throws naming what was looked for and how to choose one. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env[BROWSER_ENV];
  if (chosen !== undefined && chosen !== "") {
    if (!isExecutableFile(chosen)) throw new Error(`${BROWSER_ENV}=${chosen} is not an executable file`);
    return chosen;
  }
  const dirs = (env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== "");
  const skipped: string[] = [];
  for (const name of BROWSER_NAMES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (!isExecutableFile(candidate)) continue;
      if (isSnap(candidate)) {
        skipped.push(`${candidate} (a snap)`);
        continue;
      }
      return candidate;
    }
  }
  throw new Error(
    `no browser found: looked for ${BROWSER_NAMES.join(", ")} on PATH${skipped.length > 0 ? `, skipped ${skipped.join(", ")}` : ""}. ` +
      `Install Debian's chromium (apt-get install -y chromium) or Google Chrome, or set ${BROWSER_ENV} to a Chromium-based browser`,
  );
}
