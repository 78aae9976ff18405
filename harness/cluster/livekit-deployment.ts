/**
 * A LiveKit stand-in (harness/livekit-standin.ts) in its own process, like a real deployment:
 * its health endpoint keeps answering however busy the process driving the drills is. SIGUSR1 takes
 * it down (connection refused), SIGUSR2 brings it back on the same port with the same key and secret.
 *
 * Run as a script it is the child: `node --import tsx livekit-deployment.ts <name>` prints one JSON
 * line with its address and credentials once it listens.
 */
import { startLivekitStandIn } from "../livekit-standin";
import { isListening } from "../ports";
import { spawnManaged, waitFor, waitForReady, type ManagedProcess } from "../process";
import type { LivekitDeployment } from "../app-env";

export interface LivekitProcess extends LivekitDeployment {
  /** http://127.0.0.1:<port>, where the health endpoint is. */
  httpUrl: string;
  process: ManagedProcess;
  /** Takes the deployment down: connections refused. */
  stop(): Promise<void>;
  /** Brings it back on the same port, with the same credentials. */
  start(): Promise<void>;
}

interface ChildReady {
  name: string;
  url: string;
  httpUrl: string;
  apiKey: string;
  apiSecret: string;
}

function readyLine(logs: string): ChildReady | undefined {
  const line = logs.split("\n").find((l) => l.startsWith("{") && l.includes('"apiSecret"'));
  return line === undefined ? undefined : (JSON.parse(line) as ChildReady);
}

export async function startLivekitProcess(name: string): Promise<LivekitProcess> {
  const proc = spawnManaged(`livekit-${name}`, process.execPath, ["--import", "tsx", __filename, name]);
  let ready: ChildReady | undefined;
  await waitForReady(proc, async () => (ready = readyLine(proc.logs())) !== undefined, {
    timeoutMs: 20_000,
    what: `LiveKit stand-in ${name} to listen`,
  });
  const details = ready as ChildReady;
  const port = Number(new URL(details.httpUrl).port);
  const switchTo = async (listening: boolean): Promise<void> => {
    process.kill(proc.pid, listening ? "SIGUSR2" : "SIGUSR1");
    await waitFor(async () => (await isListening(port)) === listening, {
      timeoutMs: 5000,
      intervalMs: 20,
      what: `LiveKit stand-in ${name} to ${listening ? "listen again" : "stop listening"} on port ${port}`,
    });
  };
  return { ...details, process: proc, stop: () => switchTo(false), start: () => switchTo(true) };
}

async function child(name: string): Promise<void> {
  const standIn = await startLivekitStandIn(name);
  const report = (what: string) => (error: unknown) => process.stderr.write(`${name}: could not ${what}: ${String(error)}\n`);
  process.on("SIGUSR1", () => void standIn.stop().catch(report("stop")));
  process.on("SIGUSR2", () => void standIn.start().catch(report("start")));
  // Keeps the process alive while the server is closed.
  setInterval(() => undefined, 60_000);
  const { url, httpUrl, apiKey, apiSecret } = standIn;
  process.stdout.write(`${JSON.stringify({ name, url, httpUrl, apiKey, apiSecret })}\n`);
}

if (require.main === module) {
  const name = process.argv[2];
  if (name === undefined || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    process.stderr.write("usage: livekit-deployment.ts <name>\n");
    process.exit(2);
  }
  void child(name);
}
