/**
 * The Lua scripts as files (each owner's lua/ directory: app/src/realtime/lua, app/src/livekit/lua): every script file has a header that names each
 * KEYS[i] and ARGV[i] its body reads and what it returns; every file is registered with node-redis
 * with as many keys as its header names; the loader expands includes and refuses what it cannot load.
 * (What the scripts do is tested against a real Valkey by the other app suites.)
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LUA_DIR as REALTIME_LUA_DIR } from "../../app/src/realtime/room-log-scripts";
import { loadLuaScript } from "../../app/src/valkey/lua";
import { VALKEY_SCRIPTS } from "../../app/src/wiring/valkey-scripts";

const APP_SRC = path.resolve(__dirname, "../../app/src");
const REGISTERED = VALKEY_SCRIPTS;
/** Every owner's lua/ directory under app/src (helpers in lua/lib/ are not scripts). */
const luaDirs = readdirSync(APP_SRC, { recursive: true, encoding: "utf8" })
  .filter((entry) => path.basename(entry) === "lua" && statSync(path.join(APP_SRC, entry)).isDirectory())
  .map((entry) => path.join(APP_SRC, entry));
const scriptPaths = new Map(
  luaDirs.flatMap((dir) =>
    readdirSync(dir)
      .filter((file) => file.endsWith(".lua"))
      .map((file) => [file.slice(0, -".lua".length), path.join(dir, file)] as const),
  ),
);
const scriptFiles = [...scriptPaths.keys()];
const kebab = (command: string) => command.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** The leading comment block (after an optional shebang) and the rest. */
function split(source: string): { header: string[]; body: string } {
  const lines = source.split("\n");
  const start = lines[0]?.startsWith("#!") ? 1 : 0;
  let end = start;
  while (end < lines.length && lines[end]?.startsWith("--")) end++;
  return { header: lines.slice(start, end), body: lines.slice(end).join("\n") };
}

describe("the Lua script files", () => {
  test("there is one file per registered script, named after its command in kebab case", () => {
    expect(scriptFiles.sort()).toEqual(Object.keys(REGISTERED).map(kebab).sort());
  });

  test.each(Object.entries(REGISTERED))(
    "%s: its header names every KEYS[i] and ARGV[i] it reads and what it returns",
    (command, script) => {
      const name = kebab(command);
      const { header, body } = split(readFileSync(scriptPaths.get(name) ?? `${name}.lua`, "utf8"));
      expect(header[0]).toMatch(new RegExp(`^-- ${name}: `));
      const text = header.join("\n");
      expect(text).toMatch(/^-- Returns: /m);
      const keysNamed = [...text.matchAll(/^-- KEYS\[(\d+)\]/gm)].map((m) => Number(m[1]));
      expect(keysNamed).toEqual(Array.from({ length: script.NUMBER_OF_KEYS ?? 0 }, (_, i) => i + 1));
      for (const [, kind, index] of body.matchAll(/\b(KEYS|ARGV)\[(\d+)\]/g)) {
        expect(text).toMatch(new RegExp(`^-- ${kind}\\[${index}(\\]|\\.\\.)`, "m"));
      }
    },
  );

  test("includes are expanded in place, and the text sent to Valkey keeps a shebang on its first line", () => {
    const join = loadLuaScript("presence-join", REALTIME_LUA_DIR);
    expect(join).not.toMatch(/@include/);
    expect(join).toMatch(/local function now_ms\(\)[\s\S]*local function prune\([\s\S]*redis\.call\('ZADD'/);
    expect(REGISTERED.historyAfter.SCRIPT).toMatch(/^#!lua flags=no-writes\n/);
  });
});

describe("the Lua loader", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "gomeet-lua-"));
    mkdirSync(path.join(dir, "lib"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("names the missing script and where it looked", () => {
    expect(() => loadLuaScript("no-such-script", dir)).toThrow(
      `Lua script "no-such-script" could not be read from ${path.join(dir, "no-such-script.lua")}`,
    );
  });

  test("refuses a name that is not kebab-case", () => {
    expect(() => loadLuaScript("../secrets", dir)).toThrow('Lua script name "../secrets" is not kebab-case');
  });

  test("refuses an include outside lib/ and a helper that includes another file", () => {
    writeFileSync(path.join(dir, "outside.lua"), "-- outside: x\n-- @include other.lua\nreturn 1\n");
    expect(() => loadLuaScript("outside", dir)).toThrow(
      'Lua script "outside" includes "other.lua": only lib/<kebab-name>.lua can be included',
    );
    writeFileSync(path.join(dir, "nested.lua"), "-- nested: x\n-- @include lib/a.lua\nreturn 1\n");
    writeFileSync(path.join(dir, "lib", "a.lua"), "-- @include lib/b.lua\n");
    expect(() => loadLuaScript("nested", dir)).toThrow('Lua helper "lib/a.lua" (included by "nested") includes another file');
  });

  test("names a missing helper and the script that includes it", () => {
    writeFileSync(path.join(dir, "needs-helper.lua"), "-- needs-helper: x\n-- @include lib/gone.lua\nreturn 1\n");
    expect(() => loadLuaScript("needs-helper", dir)).toThrow('Lua helper "lib/gone.lua" (included by "needs-helper") could not be read');
  });
});
