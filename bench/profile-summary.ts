/**
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> [top]`: where a V8 CPU profile (from
 * `npm run bench -- --cpu-prof-dir <dir>`) spent its time: self time by function and by package or
 * file, and the inclusive time of the app's own functions.
 */
import fs from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function where(url: string): string {
  if (url === "") return "(native/V8)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return url;
  const app = url.indexOf("/app/src/");
  if (app >= 0) return url.slice(app + 1);
  const bench = url.indexOf("/bench/");
  return bench >= 0 ? url.slice(bench + 1) : url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || "(anonymous)"} ${where(url)}:${lineNumber + 1}`;
}

function top(map: Map<string, number>, total: number, n: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}

export function summarise(profile: CpuProfile, n: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = new Set(["(idle)", "(program)", "(garbage collector)"]);

  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  const inclusiveApp = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id) as ProfileNode;
    const name = node.callFrame.functionName;
    const key = idle.has(name) ? name : label(node);
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const place = idle.has(name) ? name : where(node.callFrame.url);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    // Charge the sample to every distinct app/src function on its stack.
    const seen = new Set<string>();
    for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const frame = byId.get(cursor) as ProfileNode;
      if (!frame.callFrame.url.includes("/app/src/")) continue;
      const appKey = label(frame);
      if (seen.has(appKey)) continue;
      seen.add(appKey);
      inclusiveApp.set(appKey, (inclusiveApp.get(appKey) ?? 0) + us);
    }
  }
  const busy = total - (byFunction.get("(idle)") ?? 0);
  return [
    `profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle (percentages are of all samples)`,
    "",
    "self time by package / file:",
    ...top(byPlace, total, n),
    "",
    "self time by function:",
    ...top(byFunction, total, n),
    "",
    "inclusive time of app/src functions:",
    ...top(inclusiveApp, total, n),
  ].join("\n");
}

if (require.main === module) {
  const [file, count] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write("usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top]\n");
    process.exit(2);
  }
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  process.stdout.write(`${summarise(profile, Number(count ?? 25))}\n`);
}
