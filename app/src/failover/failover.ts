/**
 * runFailover: fence -> promote -> switch-entry -> restore -> confirm, in that order, each step logged with its
 * duration, stopping at the first failure with an error naming the step. The run is recorded in a journal before the
 * first step, after every step and at the end:
 *  - re-running after a partial failure skips the steps the journal shows done and carries on (the drivers' steps are
 *    idempotent too, so a step that finished without being recorded is simply done again);
 *  - a completed failover to the same region is not run again (the call resolves at once, `alreadyDone`);
 *  - a recorded failover between other regions is refused: failing back is a deliberate act (runbooks), never a
 *    side effect of a second run.
 */
import {
  FAILOVER_STEPS,
  type FailoverDriver,
  type FailoverJournal,
  type FailoverLog,
  type FailoverRecord,
  type FailoverStepName,
} from "./types";
import { MemoryJournal } from "./journal";

export interface RunFailoverOptions {
  from: string;
  to: string;
  /** Print the plan, do nothing, record nothing. */
  dryRun?: boolean;
  log: FailoverLog;
  /** Where the run is recorded (default: in memory, i.e. nothing outlives the process). */
  journal?: FailoverJournal;
  /** Called when a step starts and ends (metrics). */
  onStep?: (step: FailoverStepName, phase: "start" | "done" | "failed", durationMs?: number) => void;
  /** The clock (tests). */
  now?: () => number;
}

export interface FailoverResult {
  record: FailoverRecord | undefined;
  /** Steps run by this call (skipped ones excluded). */
  ran: FailoverStepName[];
  /** The journal already showed this failover completed: nothing was done. */
  alreadyDone: boolean;
  dryRun: boolean;
}

/** A step failed: `step` names it; the journal keeps the steps done before it. */
export class FailoverStepError extends Error {
  constructor(
    readonly step: FailoverStepName,
    override readonly cause: unknown,
  ) {
    super(`failover step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "FailoverStepError";
  }
}

/** The journal holds a failover that is not this one (another target, or from another region). */
export class FailoverConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FailoverConflictError";
  }
}

function runStep(driver: FailoverDriver, step: FailoverStepName, from: string, to: string): Promise<void> {
  switch (step) {
    case "fence":
      return driver.fence(from);
    case "promote":
      return driver.promote(to);
    case "switch-entry":
      return driver.switchEntry(to);
    case "restore":
      return driver.restore(to);
    case "confirm":
      return driver.confirm(to);
  }
}

export async function runFailover(driver: FailoverDriver, options: RunFailoverOptions): Promise<FailoverResult> {
  const { from, to, log } = options;
  const now = options.now ?? Date.now;
  if (from === to) throw new FailoverConflictError(`failover: --to ${to} is the region it would fail over from`);
  if (options.dryRun === true) {
    for (const plan of driver.plan(from, to)) {
      log.info({ step: plan.step, requests: plan.requests, driver: driver.name }, `dry run: ${plan.step}: ${plan.description}`);
    }
    return { record: undefined, ran: [], alreadyDone: false, dryRun: true };
  }
  const journal = options.journal ?? new MemoryJournal();
  let record = await journal.read();
  if (record !== undefined && (record.from !== from || record.to !== to)) {
    throw new FailoverConflictError(
      `failover ${from} -> ${to} refused: the journal records a failover ${record.from} -> ${record.to} ` +
        `(started ${record.startedAt}${record.completedAt === undefined ? ", not completed" : `, completed ${record.completedAt}`}); ` +
        "fail back deliberately (runbooks) and clear the journal first",
    );
  }
  if (record?.completedAt !== undefined) {
    log.info({ from, to, completedAt: record.completedAt }, "failover already completed: nothing to do");
    return { record, ran: [], alreadyDone: true, dryRun: false };
  }
  const began = now();
  record ??= { from, to, driver: driver.name, startedAt: new Date(began).toISOString(), steps: [] };
  await journal.write(record);
  log.info({ from, to, driver: driver.name, resumed: record.steps.length > 0 }, `failover ${from} -> ${to}: starting`);
  const ran: FailoverStepName[] = [];
  for (const step of FAILOVER_STEPS) {
    if (record.steps.some((s) => s.step === step)) {
      log.info({ step }, `failover step ${step}: already done (journal)`);
      continue;
    }
    const stepBegan = now();
    options.onStep?.(step, "start");
    log.info({ step }, `failover step ${step}: starting`);
    try {
      await runStep(driver, step, from, to);
    } catch (error) {
      const durationMs = now() - stepBegan;
      const failure = new FailoverStepError(step, error);
      options.onStep?.(step, "failed", durationMs);
      log.error({ step, durationMs, err: failure.message }, `failover step ${step}: failed`);
      record = { ...record, lastError: `${step}: ${failure.message}` };
      await journal.write(record);
      throw failure;
    }
    const durationMs = now() - stepBegan;
    options.onStep?.(step, "done", durationMs);
    log.info({ step, durationMs }, `failover step ${step}: done in ${durationMs} ms`);
    record = { ...record, steps: [...record.steps, { step, doneAt: new Date(now()).toISOString(), durationMs }] };
    await journal.write(record);
    ran.push(step);
  }
  const { lastError: _cleared, ...done } = record;
  record = { ...done, completedAt: new Date(now()).toISOString() };
  await journal.write(record);
  log.info({ from, to, durationMs: now() - began }, `failover ${from} -> ${to}: completed in ${now() - began} ms`);
  return { record, ran, alreadyDone: false, dryRun: false };
}
