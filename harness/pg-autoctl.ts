/**
 * Where and as whom pg_autoctl runs: each node's own directory (config, state, runtime dir, data dir), one unix
 * socket directory per formation, the superuser `postgres` whoever runs the harness (root: the `postgres` system
 * user; anyone else: that user), and the server's bin dir first on PATH.
 */
import fsSync from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { findBinary } from "./binaries";
import { spawnManaged, tempDir } from "./process";

export const POSTGRES_USER = "postgres" as const;

/** A node's directories. */
export interface AutoctlHome {
  /** pg_autoctl's HOME, with its config/, share/ and run/ directories. */
  home: string;
  /** The PostgreSQL data directory (<home>/data). */
  dataDir: string;
  /** The formation's unix socket directory (Debian's default, /var/run/postgresql, is writable by the postgres user only). */
  socketDir: string;
}

/** The real directory of the PostgreSQL server binaries (/usr/local/bin may hold symlinks to some of them only). */
export function postgresBinDir(): string {
  return path.dirname(fsSync.realpathSync(findBinary("postgres")));
}

/** The environment pg_autoctl runs with: the server's bin dir first, its config and state in the node's directory. */
export function autoctlEnv(node: AutoctlHome): NodeJS.ProcessEnv {
  const binDir = postgresBinDir();
  return {
    PATH: `${binDir}:${process.env.PATH ?? ""}`,
    XDG_CONFIG_HOME: path.join(node.home, "config"),
    XDG_DATA_HOME: path.join(node.home, "share"),
    XDG_RUNTIME_DIR: path.join(node.home, "run"),
    HOME: node.home,
    // pg_autoctl connects to its own server as this user through this socket directory (by default: the OS user's
    // name, and Debian's socket directory).
    PGUSER: POSTGRES_USER,
    PGHOST: node.socketDir,
    PGPORT: undefined,
    PGDATA: undefined,
  };
}

export async function runAutoctl(name: string, node: AutoctlHome, args: string[]): Promise<string> {
  const proc = spawnManaged(name, findBinary("pg_autoctl"), args, { asUser: POSTGRES_USER, env: autoctlEnv(node) });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`pg_autoctl ${args.join(" ")} failed with exit code ${String(code)}\n${proc.logs()}`);
  return proc.logs();
}

/** The formation's unix socket directory, owned by postgres (by the current user when not root). */
export function formationSocketDir(): Promise<string> {
  return tempDir("pg-sockets", POSTGRES_USER);
}

/**
 * A directory owned by postgres (by the current user when not root) holding pg_autoctl's config/state dirs and the
 * data dir. The runtime dir is made here: pg_autoctl falls back to the shared /tmp/pg_autoctl when it is missing.
 */
export async function nodeHome(label: string, socketDir: string): Promise<AutoctlHome> {
  const home = await tempDir(label, POSTGRES_USER);
  const { uid, gid } = await fs.stat(home);
  const node = { home, dataDir: path.join(home, "data"), socketDir };
  const runtimeDir = autoctlEnv(node).XDG_RUNTIME_DIR as string;
  await fs.mkdir(runtimeDir, { mode: 0o700 });
  await fs.chown(runtimeDir, uid, gid);
  return node;
}

/**
 * initdb of a node's data directory with the superuser `postgres` and the formation's socket directory.
 * `pg_autoctl create` then registers the existing directory instead of running initdb itself as the current user,
 * whose name would be the superuser's. A standby made from it with pg_basebackup copies both.
 */
export async function initDataDir(name: string, node: AutoctlHome): Promise<void> {
  const initdb = spawnManaged(
    `initdb-${name}`,
    findBinary("initdb"),
    ["-D", node.dataDir, "-U", POSTGRES_USER, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"],
    { asUser: POSTGRES_USER },
  );
  const code = await initdb.exited;
  if (code !== 0) throw new Error(`initdb of ${node.dataDir} failed with exit code ${String(code)}\n${initdb.logs()}`);
  await fs.appendFile(
    path.join(node.dataDir, "postgresql.conf"),
    `\n# --- GoMeet test harness ---\nunix_socket_directories = '${node.socketDir}'\n`,
  );
}
