/**
 * Which of the service's alerts fired during a drill, and when: the local Prometheus's /api/v1/alerts is polled
 * while the drill runs; an alert counts from the first poll that sees it `firing`. Alerts already firing when
 * the watch starts (left over from an earlier drill) are not counted unless they resolve and fire again.
 */
import type { ActiveAlert, LocalPrometheus } from "../harness/prometheus";
import type { DrillAlerts, DrillName, DrillResult, FiredAlert } from "./types";

export type { FiredAlert };

/** One alert that fired, seconds after the fault (negative: before it). */

/**
 * What each drill's fault must raise locally: `required` alerts fail the drill unless they fire within
 * ALERT_SETTLE_MS after it (instance-kill also requires its own within 90 s of the kill); `informational` says which
 * alerts are reported but not required, and why (faults shorter than a scaled `for:`, or too few failed requests
 * against a 5-minute ratio, raise nothing reliably). A drill that requires none says why. Measured:
 * docs/local-cluster-and-drills.md lists them with the figures. Every drill has an entry.
 */
export type AlertExpectation =
  { required: readonly [string, ...string[]]; informational?: string } | { required: readonly []; informational: string };

export const DRILL_ALERTS: Readonly<Record<DrillName, AlertExpectation>> = {
  "instance-kill": { required: ["GoMeetInstanceDown"] },
  // Each restart is a new process start time: InstanceFlapping (changes >= 2 in 15 m, no `for:`) fires once the
  // second instance is back. InstanceDown needs up == 0 for its scaled 3 s, and a graceful restart is down (exit to
  // ready) for about a second: it fires only when the machine is slow.
  "rolling-restart": {
    required: ["GoMeetInstanceFlapping"],
    informational:
      "GoMeetInstanceDown needs an instance unscraped for its scaled 3 s and a graceful restart is down for about a second; GoMeetReplicasBelowFloor fires only if the instances stay below the floor for its scaled 15 s without a break; the restarts follow each other with about a second at full strength between them",
  },
  "valkey-failover": {
    required: [],
    informational:
      "GoMeetHttp5xxRatioHigh fires when the fast 503s while no primary answers exceed 1 % of the 5-minute window: they did at npm run drills' load (120 of them), not necessarily at npm test's smaller one",
  },
  "postgres-replica-loss": { required: [], informational: "the replica is down 4 s, less than the scaled 6 s of GoMeetDependencyDown" },
  "postgres-primary-loss": {
    required: [],
    informational:
      "GoMeetCriticalDependencyDown needs the primary down for its scaled 3 s as scraped: the 4 s cut is barely longer (it fired 5.2 s after the fault in one run, not at all in another)",
  },
  "livekit-outage": { required: [], informational: "the deployment's outage is shorter than the scaled 6 s of GoMeetDependencyDown" },
  "bad-input": { required: [], informational: "every input gets a 4xx or an error frame: no 5xx, no instance down" },
  "postgres-failover": { required: ["GoMeetCriticalDependencyDown"] },
  "valkey-primary-hang": {
    required: [],
    informational: "the Sentinels promote within a few seconds; the instances see Valkey down for less than the scaled for: of any alert",
  },
  "region-loss": {
    required: [],
    informational:
      "the watch is region b's Prometheus (region a's dies with it), scraping region b's instances, which stay up: the region's loss is the controller's verdict (gomeet_region_lost, timed in the drill's figures), not one of these rules; region b's 503 region_standby may raise GoMeetHttp5xxRatioHigh",
  },
};

/** The alerts `drill` requires (none for an informational one). */
export function requiredAlerts(drill: DrillName): readonly string[] {
  return DRILL_ALERTS[drill].required;
}

/**
 * The runner's judgement of the alerts: a required alert that did not fire within the settle time, or an alert
 * poll that failed (Prometheus unreachable: the drill could not see what fired), is a problem and fails the drill.
 */
export function judgeAlerts(result: DrillResult, missing: readonly string[], pollErrors: readonly string[]): void {
  for (const name of missing)
    result.problems.push(`required alert ${name} did not fire within ${ALERT_SETTLE_MS / 1000} s after the drill`);
  if (pollErrors.length > 0) result.problems.push(`${pollErrors.length} alert poll(s) of Prometheus failed, e.g. ${pollErrors[0]}`);
  const { informational } = DRILL_ALERTS[result.name];
  if (informational !== undefined) result.details.push(`informational, not required: ${informational}`);
  result.passed = result.passed && result.problems.length === 0;
}

/** How long the runner keeps watching after a drill for its expected alerts. */
export const ALERT_SETTLE_MS = 30_000;
const POLL_MS = 200;

const keyOf = (alert: ActiveAlert): string => JSON.stringify(Object.entries(alert.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export class AlertWatch implements DrillAlerts {
  /** First time (epoch ms) each alert (by its labels) was seen firing. */
  private readonly firstFiring = new Map<string, { name: string; at: number }>();
  /** Firing when the watch started, and not resolved since. */
  private readonly leftOver = new Set<string>();
  private readonly errors: string[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly prometheus: LocalPrometheus,
    baseline: readonly ActiveAlert[],
  ) {
    for (const alert of baseline) if (alert.state === "firing") this.leftOver.add(keyOf(alert));
    this.loop = this.run();
  }

  /** Starts watching (the alerts firing now are the baseline). */
  static async start(prometheus: LocalPrometheus): Promise<AlertWatch> {
    return new AlertWatch(prometheus, await prometheus.alerts());
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.poll();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private async poll(): Promise<void> {
    let alerts: ActiveAlert[];
    try {
      alerts = await this.prometheus.alerts();
    } catch (error) {
      this.errors.push(error instanceof Error ? error.message : String(error));
      return;
    }
    const now = Date.now();
    const firing = new Set(alerts.filter((a) => a.state === "firing").map(keyOf));
    for (const key of this.leftOver) if (!firing.has(key)) this.leftOver.delete(key);
    for (const alert of alerts) {
      const key = keyOf(alert);
      if (alert.state !== "firing" || this.leftOver.has(key) || this.firstFiring.has(key)) continue;
      this.firstFiring.set(key, { name: alert.labels.alertname ?? "unnamed", at: now });
    }
  }

  /** When `name` was first seen firing (epoch ms), if it was. */
  firedAt(name: string): number | undefined {
    const times = [...this.firstFiring.values()].filter((f) => f.name === name).map((f) => f.at);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** Resolves with the time `name` was first seen firing, or undefined after timeoutMs. */
  async waitFiring(name: string, timeoutMs: number): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.firedAt(name);
      if (at !== undefined || Date.now() >= deadline || this.stopped) return at;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS / 2));
    }
  }

  /** Waits until every one of `names` has fired, or timeoutMs; returns those that did not. */
  async settle(names: readonly string[], timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(names.map((name) => this.waitFiring(name, Math.max(0, deadline - Date.now()))));
    return names.filter((name) => this.firedAt(name) === undefined);
  }

  /** Each alert that fired, once, with the seconds from `faultAt` to its first firing poll; earliest first. */
  firedSince(faultAt: number): FiredAlert[] {
    const earliest = new Map<string, number>();
    for (const { name, at } of this.firstFiring.values()) earliest.set(name, Math.min(at, earliest.get(name) ?? Infinity));
    return [...earliest]
      .map(([name, at]) => ({ name, firedAfterSeconds: Math.round((at - faultAt) / 10) / 100 }))
      .sort((a, b) => a.firedAfterSeconds - b.firedAfterSeconds);
  }

  /** Polls that failed (Prometheus unreachable), for the drill's details. */
  failedPolls(): string[] {
    return [...this.errors];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
