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
  return (await redisCommands(target, [args], timeoutMs))[0];
}

/**
 * Runs commands in order on ONE connection and returns their replies: for commands that act on the
 * connection's own earlier writes, e.g. `SET` then `WAIT` (WAIT waits for this connection's last write;
 * on a fresh connection it has nothing to wait for and answers at once).
 */
export async function redisCommands(target: RedisAddress, commands: string[][], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown[]> {
  const where = `redis ${target.host}:${target.port} ${commands.map((args) => args.join(" ")).join("; ")}`;
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
  const run = async (): Promise<unknown[]> => {
    await client.connect();
    const replies: unknown[] = [];
    for (const args of commands) replies.push(await client.sendCommand(args));
    return replies;
  };
  try {
    return await Promise.race([run(), timeout]);
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
