/** What the benchmark's own server entries share: required environment, and a clean exit on SIGTERM/SIGINT. */

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`environment variable ${name} is required`);
  return value;
}

/**
 * On SIGTERM or SIGINT: runs `cleanup` (bounded to 2 s), then exits 0 through process.exit, so that
 * a --cpu-prof profile is written.
 */
export function exitOnSignals(cleanup: () => Promise<void>): void {
  let exiting = false;
  const onSignal = (): void => {
    if (exiting) return;
    exiting = true;
    const timer = setTimeout(() => process.exit(0), 2000);
    cleanup().finally(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
