/**
 * The service's alert rules through the real promtool (Debian package `prometheus`): the rendered rules
 * file passes `promtool check rules`, and `promtool test rules` shows every alert firing and staying quiet.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { findBinary } from "../../harness/binaries";
import { alertDefinitions, promDuration, renderRuleGroups, rulesFileYaml, runbookUrl } from "../../infra/alert-rules";
import { ALERT_CASES, RULE_SETTINGS, type AlertCase } from "./rule-cases";

const PROMTOOL = findBinary("promtool");
const ROOT = path.resolve(__dirname, "../..");
const definitions = alertDefinitions(RULE_SETTINGS);
const byName = new Map(definitions.map((d) => [d.alert, d]));

/**
 * The summary each alert must carry with RULE_SETTINGS (HA floor 3, fan-out p99 target 100 ms): fixed here, not
 * read from the definitions under test, so a changed or templated summary shows up.
 */
const SUMMARIES: Readonly<Record<string, string>> = {
  GoMeetInstanceDown: "A GoMeet instance does not answer its metrics scrape",
  GoMeetNoInstanceUp: "No GoMeet instance is scraped successfully",
  GoMeetStandbyReplicationLagHigh: "The standby region's database is more than 60 s behind the primary",
  GoMeetRegionLost: "The primary region is declared lost",
  GoMeetFailoverFailed: "A region failover stopped part-way",
  GoMeetReplicasBelowFloor: "Fewer than 3 GoMeet instances are ready (the HA floor)",
  GoMeetInstanceFlapping: "A GoMeet instance keeps restarting",
  GoMeetInstanceNotReady: "A GoMeet instance answers /readyz with 503",
  GoMeetInstanceDegraded: "A GoMeet instance reports readiness 'degraded'",
  GoMeetFanoutP99High: "Fan-out p99 is over the 100 ms target",
  GoMeetValkeyConnectionsRecycled: "GoMeet recycled its Valkey connections",
  GoMeetValkeyRefusingWrites: "Valkey refuses GoMeet's writes (maxmemory reached)",
  GoMeetCriticalDependencyDown: "A dependency GoMeet cannot work without is down",
  GoMeetDependencyDown: "A GoMeet dependency is down (the service works around it)",
  GoMeetSlowConsumers: "GoMeet is closing many slow WebSocket consumers",
  GoMeetHeartbeatTimeouts: "Many GoMeet WebSocket clients stop answering pings",
  GoMeetHttp5xxRatioHigh: "Over 1% of GoMeet's HTTP requests fail with 5xx",
};

function promtool(args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(PROMTOOL, args, { cwd, encoding: "utf8", timeout: 60_000 });
  if (result.error) throw new Error(`${PROMTOOL} could not run (install the Debian package "prometheus"): ${result.error.message}`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function promtoolTest(c: AlertCase): Record<string, unknown> {
  const d = byName.get(c.alert);
  if (d === undefined) throw new Error(`case "${c.title}" names an unknown alert ${c.alert}`);
  return {
    name: `${c.alert}: ${c.title}`,
    interval: "1m",
    input_series: c.series.map(([series, values]) => ({ series, values })),
    alert_rule_test: [
      {
        eval_time: c.evalTime,
        alertname: c.alert,
        exp_alerts: c.fires.map((f) => ({
          exp_labels: f.labels,
          exp_annotations: {
            summary: SUMMARIES[c.alert] ?? `<no fixed summary for ${c.alert} in rules.test.ts>`,
            description: f.description,
            runbook_url: runbookUrl(d.runbook, RULE_SETTINGS.runbookBaseUrl),
          },
        })),
      },
    ],
  };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-rules-"));
  fs.writeFileSync(path.join(dir, "rules.yml"), rulesFileYaml(RULE_SETTINGS));
  fs.writeFileSync(
    path.join(dir, "tests.yml"),
    stringify({ rule_files: ["rules.yml"], evaluation_interval: "1m", tests: ALERT_CASES.map(promtoolTest) }, { lineWidth: 0 }),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the rules file", () => {
  test("passes promtool check rules", () => {
    const { status, output } = promtool(["check", "rules", "rules.yml"], dir);
    expect(output).toContain(`SUCCESS: ${definitions.length} rules found`);
    expect(status).toBe(0);
  });

  test("promtool test rules: every alert fires in its case and stays quiet in the near miss", () => {
    const { status, output } = promtool(["test", "rules", "tests.yml"], dir);
    if (status !== 0) throw new Error(`promtool test rules failed:\n${output}`);
    expect(output).toContain("SUCCESS");
  });

  test("every alert's summary is the one fixed above", () => {
    expect(Object.fromEntries(definitions.map((d) => [d.alert, d.summary]))).toEqual(SUMMARIES);
  });

  test("every alert has a firing case and a quiet case", () => {
    for (const d of definitions) {
      const cases = ALERT_CASES.filter((c) => c.alert === d.alert);
      expect({ alert: d.alert, fires: cases.some((c) => c.fires.length > 0) }).toEqual({ alert: d.alert, fires: true });
      expect({ alert: d.alert, quiet: cases.some((c) => c.fires.length === 0) }).toEqual({ alert: d.alert, quiet: true });
    }
  });

  test("the service's signals each have an alert with a severity, a summary and a runbook link", () => {
    const exprs = definitions.map((d) => d.expr).join("\n");
    for (const metric of [
      "up{",
      "gomeet_ready{",
      "gomeet_readiness_status{",
      "gomeet_fanout_latency_seconds_bucket",
      "gomeet_redis_recycles_total",
      "gomeet_dependency_up",
      "gomeet_ws_slow_consumers_total",
      "gomeet_ws_heartbeat_timeouts_total",
      "gomeet_http_requests_total",
    ]) {
      expect(exprs).toContain(metric);
    }
    for (const rule of renderRuleGroups(RULE_SETTINGS)[0]!.rules) {
      expect(["critical", "warning"]).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      expect(rule.annotations.runbook_url).toMatch(/^https:\/\/git\.gomeet\.example\/gomeet\/blob\/main\/docs\/runbooks\.md#[a-z0-9-]+$/);
    }
  });

  test("every runbook link points at an anchor that docs/runbooks.md has", () => {
    const runbooks = fs.readFileSync(path.join(ROOT, "docs", "runbooks.md"), "utf8");
    const anchors = new Set([...runbooks.matchAll(/<a id="([a-z0-9-]+)"><\/a>/g)].map((m) => m[1]));
    for (const d of definitions) expect({ alert: d.alert, anchor: anchors.has(d.runbook) }).toEqual({ alert: d.alert, anchor: true });
  });
});

describe("one setting scales every for: duration", () => {
  test("the stack's durations, and a local cluster's at 1/20", () => {
    const forOf = (scale: number) =>
      Object.fromEntries(renderRuleGroups({ ...RULE_SETTINGS, forScale: scale })[0]!.rules.map((r) => [r.alert, r.for]));
    expect(forOf(1)).toMatchObject({
      GoMeetInstanceDown: "1m",
      GoMeetReplicasBelowFloor: "5m",
      GoMeetSlowConsumers: "10m",
      GoMeetInstanceFlapping: undefined,
    });
    expect(forOf(0.05)).toMatchObject({
      GoMeetInstanceDown: "3s",
      GoMeetReplicasBelowFloor: "15s",
      GoMeetSlowConsumers: "30s",
      GoMeetInstanceFlapping: undefined,
    });
  });

  test("durations and settings are validated", () => {
    expect(promDuration(90)).toBe("90s");
    expect(promDuration(0.2)).toBe("1s");
    expect(() => renderRuleGroups({ ...RULE_SETTINGS, forScale: 0 })).toThrow("forScale must be a positive number, got 0");
    expect(() => renderRuleGroups({ ...RULE_SETTINGS, haFloor: 0 })).toThrow("haFloor must be a positive integer, got 0");
  });
});
