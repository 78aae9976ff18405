/**
 * One-shot Redis/Sentinel commands for the harness (node-redis, a fresh connection per command, so a
 * probe behaves like a client that reconnects and never sees a stale socket).
 */
import { createClient } from "redis";

export interface RedisAddress {
  host: string;
  port: number;
}

const DEFAULT_TIMEOUT_MS = 1000;

/** Runs one command on host:port and returns its raw reply; rejects naming the server and command on any failure. */
export async function redisCommand(target: RedisAddress, args: string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown> {
  const where = `redis ${target.host}:${target.port} ${args.join(" ")}`;
  const client = createClient({
    socket: { host: target.host, port: target.port, connectTimeout: timeoutMs, reconnectStrategy: false },
    RESP: 2,
    disableClientInfo: true,
  });
  // Socket errors also reject the pending connect/command below, which is where they are reported.
  client.on("error", () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([client.connect().then(() => client.sendCommand(args)), timeout]);
  } catch (error) {
    throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
    if (client.isOpen) client.destroy();
  }
}

/** INFO <section> parsed into key → value. */
export async function redisInfo(target: RedisAddress, section: string, timeoutMs?: number): Promise<Record<string, string>> {
  const reply = await redisCommand(target, ["INFO", section], timeoutMs);
  if (typeof reply !== "string") {
    throw new Error(`redis ${target.host}:${target.port} INFO ${section}: expected a string reply, got ${typeof reply}`);
  }
  return parseInfo(reply);
}

export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/** True if host:port answers PING with PONG. */
export async function redisPing(target: RedisAddress, timeoutMs?: number): Promise<boolean> {
  return (await redisCommand(target, ["PING"], timeoutMs)) === "PONG";
}
