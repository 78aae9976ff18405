/** Runs a drill's fault under load: start the load, warm up, run `body`, then finish and judge the load. */
import type { DrillContext } from "../types";
import { DrillLoad, type LoadObservation, type LoadOptions } from "./load";

/** After the service is stable again, the load keeps running this long (late losses and duplicates show up here). */
export const LINGER_MS = 1000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function withLoad<T>(
  ctx: DrillContext,
  options: LoadOptions,
  body: (load: DrillLoad) => Promise<T>,
): Promise<{ value: T; obs: LoadObservation; load: DrillLoad }> {
  const load = await DrillLoad.start(ctx, options);
  try {
    await sleep(ctx.scale.warmupMs);
    const value = await body(load);
    const obs = await load.finish();
    return { value, obs, load };
  } catch (error) {
    await load.abort();
    throw error;
  }
}
