/**
 * Before anything starts: every server binary the cluster runs must be installed. A missing one is
 * reported at once, by name and with the Debian package that provides it, instead of after half
 * the cluster has started.
 */
import { findBinary, type BinaryName } from "../binaries";

/** The binaries the local cluster runs (redis-server also runs the Sentinels). */
export const CLUSTER_BINARIES: readonly BinaryName[] = [
  "redis-server",
  "haproxy",
  "initdb",
  "postgres",
  "pg_basebackup",
  "pg_autoctl",
  "pgbouncer",
  "nginx",
  "prometheus",
];

export class MissingBinaryError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "MissingBinaryError";
  }
}

/**
 * Resolves every binary with `find` (findBinary by default); throws one MissingBinaryError listing
 * each missing binary with its install hint.
 */
export function checkClusterBinaries(find: (name: BinaryName) => string = findBinary): Record<string, string> {
  const found: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of CLUSTER_BINARIES) {
    try {
      found[name] = find(name);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (problems.length > 0) throw new MissingBinaryError(problems);
  return found;
}
