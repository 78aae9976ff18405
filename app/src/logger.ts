/** JSON logs (pino) that carry the instance id on every line. */
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, instanceId: string): Logger {
  return pino({ level, base: { instance: instanceId }, timestamp: pino.stdTimeFunctions.isoTime });
}
