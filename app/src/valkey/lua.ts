/**
 * Loads Valkey Lua scripts from an owner's lua/ directory: one file per script, named after it in kebab
 * case (realtime/lua/presence-join.lua), each starting with a header that names every KEYS[i] and ARGV[i]
 * and what it returns. A line `-- @include lib/<name>.lua` is replaced by that helper file of the same
 * directory (helpers include nothing themselves), so a script sent to Valkey is one self-contained text.
 *
 * Files are read synchronously, once, when the module defining a script is loaded (app start), never
 * per call. The image ships every lua/ directory beside the compiled code (dist/<owner>/lua, see app/Dockerfile).
 */
import { readFileSync } from "node:fs";
import path from "node:path";

const INCLUDE_LINE = /^-- @include (\S+)$/gm;
const ANY_INCLUDE = /^-- @include /m;
const SCRIPT_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const LIB_PATH = /^lib\/[a-z][a-z0-9-]*\.lua$/;

/** The source of <dir>/<name>.lua with its includes expanded. Throws naming the script when it is missing or malformed. */
export function loadLuaScript(name: string, dir: string): string {
  if (!SCRIPT_NAME.test(name)) throw new Error(`Lua script name "${name}" is not kebab-case (expected e.g. "presence-join")`);
  const source = readLuaFile(dir, `${name}.lua`, `Lua script "${name}"`);
  return source.replace(INCLUDE_LINE, (_line, lib: string) => {
    if (!LIB_PATH.test(lib)) throw new Error(`Lua script "${name}" includes "${lib}": only lib/<kebab-name>.lua can be included`);
    const helper = readLuaFile(dir, lib, `Lua helper "${lib}" (included by "${name}")`);
    if (ANY_INCLUDE.test(helper))
      throw new Error(`Lua helper "${lib}" (included by "${name}") includes another file: helpers must be self-contained`);
    return helper.trimEnd();
  });
}

function readLuaFile(dir: string, relative: string, what: string): string {
  const file = path.join(dir, relative);
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${what} could not be read from ${file} (${reason}); the .lua files must be shipped beside the code`);
  }
}
