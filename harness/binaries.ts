/**
 * Locating the server binaries the harness runs, with an error that says how to install a missing one.
 */
import fs from "node:fs";
import path from "node:path";

export type BinaryName =
  | "redis-server"
  | "initdb"
  | "pg_ctl"
  | "postgres"
  | "pg_basebackup"
  | "psql"
  | "nginx"
  | "haproxy"
  | "pg_autoctl"
  | "pgbouncer"
  | "prometheus"
  | "promtool";

/** The Debian package that provides each binary. */
export const DEBIAN_PACKAGE: Readonly<Record<BinaryName, string>> = {
  "redis-server": "redis-server",
  initdb: "postgresql",
  pg_ctl: "postgresql",
  postgres: "postgresql",
  pg_basebackup: "postgresql",
  psql: "postgresql",
  nginx: "nginx-light",
  haproxy: "haproxy",
  // The extension for the server's major (15 on Debian 12, 16 on Ubuntu 24.04): see debianPackage().
  pg_autoctl: "postgresql-<major>-auto-failover",
  pgbouncer: "pgbouncer",
  prometheus: "prometheus",
  promtool: "prometheus",
};

const POSTGRES_VERSIONS_DIR = "/usr/lib/postgresql";
const POSTGRES_EXTENSIONS_DIR = "/usr/share/postgresql";
const SBIN_DIRS = ["/usr/sbin", "/usr/local/sbin", "/sbin"];

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Whether PostgreSQL `version` has the pg_auto_failover extension installed (Debian's layout). */
function hasAutoFailover(version: string): boolean {
  return fs.existsSync(path.join(POSTGRES_EXTENSIONS_DIR, version, "extension", "pgautofailover.control"));
}

/** The installed PostgreSQL versions: those with pg_auto_failover first (the formation needs it), each group newest first. */
function postgresVersions(): string[] {
  let versions: string[];
  try {
    versions = fs.readdirSync(POSTGRES_VERSIONS_DIR);
  } catch {
    return [];
  }
  const rank = (v: string): number => (hasAutoFailover(v) ? 0 : 1);
  return versions.filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => rank(a) - rank(b) || Number(b) - Number(a));
}

/** /usr/lib/postgresql/<version>/bin directories, in postgresVersions' order. */
function postgresBinDirs(): string[] {
  return postgresVersions().map((v) => path.join(POSTGRES_VERSIONS_DIR, v, "bin"));
}

/** The Debian package that provides `name` here: pg_autoctl's names the installed server's major. */
export function debianPackage(name: BinaryName): string {
  const pkg = DEBIAN_PACKAGE[name];
  const major = postgresVersions()[0];
  return name === "pg_autoctl" && major !== undefined ? pkg.replace("<major>", major) : pkg;
}

/**
 * Directories searched, in order: PATH, then the PostgreSQL version directories (a major with pg_auto_failover
 * first), then the sbin directories.
 */
export function searchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromPath = (env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== "");
  return [...fromPath, ...postgresBinDirs(), ...SBIN_DIRS];
}

/** The real directory of the `postgres` server binary, if there is one. */
function postgresServerDir(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of searchPath(env)) {
    const candidate = path.join(dir, "postgres");
    if (isExecutableFile(candidate)) return path.dirname(fs.realpathSync(candidate));
  }
  return undefined;
}

/**
 * Absolute path of `name`, looked up in PATH, /usr/lib/postgresql/<version>/bin and /usr/sbin.
 * Throws an Error naming the binary and the Debian package that provides it when it is missing.
 */
export function findBinary(name: BinaryName, env: NodeJS.ProcessEnv = process.env): string {
  const dirs = searchPath(env);
  if (DEBIAN_PACKAGE[name] === "postgresql" && name !== "postgres") {
    // Keep every PostgreSQL tool at the server's major version: /usr/bin/pg_basebackup may be Debian's
    // pg_wrapper, which picks a version on its own.
    const serverDir = postgresServerDir(env);
    if (serverDir !== undefined) dirs.unshift(serverDir);
  }
  return findBinaryIn(name, dirs);
}

/** `findBinary` over an explicit list of directories. */
export function findBinaryIn(name: BinaryName, dirs: readonly string[]): string {
  if (!Object.prototype.hasOwnProperty.call(DEBIAN_PACKAGE, name)) {
    throw new Error(`findBinary: unknown binary "${String(name)}"; known: ${Object.keys(DEBIAN_PACKAGE).join(", ")}`);
  }
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  const pkg = debianPackage(name);
  throw new Error(
    `${name} not found (searched ${dirs.join(", ")}). ` +
      `Install the Debian package "${pkg}": apt-get update && apt-get install -y ${pkg}`,
  );
}
