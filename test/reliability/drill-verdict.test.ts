/**
 * The drills' verdict code on fixed observations (no servers): Verdict, the checks every drill shares
 * (commonChecks), the failure summary, the runner's alert judgement (a required alert that never fired or a failed
 * Prometheus poll fails the drill), and valkey-primary-hang's thaw judgement.
 */
import { DRILL_ALERTS, judgeAlerts, requiredAlerts } from "../../drills/alerts";
import { judgeThaw } from "../../drills/faults/valkey-primary-hang";
import type { LoadObservation } from "../../drills/load/load";
import type { RequestSample } from "../../drills/load/http-load";
import { DRILL_NAMES, type DrillResult } from "../../drills/types";
import { commonChecks, describeFailures, seconds, Verdict } from "../../drills/verdict";

const FAULT_AT = 10_000;

function sample(stream: string, ok: boolean, status: number, error?: string): RequestSample {
  return { stream, kind: stream.startsWith("write") ? "write" : "read", start: 0, end: 1, status, ok, ...(error ? { error } : {}) };
}

function observation(edit: Partial<LoadObservation> = {}, delivery: Partial<LoadObservation["delivery"]> = {}): LoadObservation {
  return {
    delivery: { accepted: 120, lost: 0, duplicates: 0, foreign: 0, resends: 2, examples: [], ...delivery },
    wsEpisodes: [
      { source: "c1", start: 9000, end: 9400 }, // before the fault: not counted
      { source: "c2", start: 10_100, end: 11_350 },
    ],
    httpEpisodes: [{ source: "write@lb", start: 10_050, end: 10_800 }],
    samples: [sample("read@lb", true, 200), sample("write@lb", false, 503, "database_unavailable")],
    failedRequests: [sample("write@lb", false, 503, "database_unavailable")],
    acknowledged: 120,
    connections: 9,
    undrained: [],
    converged: true,
    startedAt: 0,
    endedAt: 20_000,
    series: { bucketMs: 250, points: [] },
    ...edit,
  };
}

describe("Verdict", () => {
  it("records a problem only when a requirement fails; the result passes only without problems", () => {
    const verdict = new Verdict("instance-kill");
    verdict.require(true, "never recorded");
    verdict.detail("a figure");
    expect(verdict.result({ recoveryMs: 1234, lost: 0, duplicates: 0, failedRequests: 0, degradedSeen: true })).toMatchObject({
      name: "instance-kill",
      recoverySeconds: 1.23,
      passed: true,
      problems: [],
      details: ["a figure"],
    });
    verdict.require(false, "recovery took too long");
    const failed = verdict.result({ recoveryMs: Infinity, lost: 0, duplicates: 0, failedRequests: 0, degradedSeen: false });
    expect(failed).toMatchObject({ passed: false, recoverySeconds: null, problems: ["recovery took too long"] });
  });

  it("formats seconds, and never for an outage that did not end", () => {
    expect(seconds(1234)).toBe("1.23 s");
    expect(seconds(Infinity)).toBe("never");
  });

  it("summarises failed requests per stream and answer", () => {
    expect(
      describeFailures([
        sample("write@lb", false, 503, "database_unavailable"),
        sample("write@lb", false, 503, "database_unavailable"),
        sample("read@lb", false, 0, "ECONNRESET"),
        sample("read@lb", false, 502),
      ]),
    ).toBe("2× write@lb: database_unavailable, 1× read@lb: ECONNRESET, 1× read@lb: HTTP 502");
    expect(describeFailures([])).toBe("none");
  });
});

describe("commonChecks", () => {
  it("passes a clean observation and returns the longest outages that ended after the fault", () => {
    const verdict = new Verdict("valkey-failover");
    expect(commonChecks(verdict, observation(), FAULT_AT)).toEqual({ websocket: 1250, http: 750, overall: 1250 });
    expect(verdict.problems).toEqual([]);
    expect(verdict.faultAt).toBe(FAULT_AT);
    expect(verdict.details[0]).toBe(
      "120 messages accepted (2 sent again after a reconnect or an error), 9 WebSocket connections; 2 HTTP requests, 1 failed (1× write@lb: database_unavailable)",
    );
  });

  it("fails on every loss it sees: lost, duplicated, foreign, unconverged, undrained, an outage still open", () => {
    const verdict = new Verdict("valkey-failover");
    const outages = commonChecks(
      verdict,
      observation(
        { converged: false, undrained: ["c3"], httpEpisodes: [{ source: "read@lb", start: 12_000, end: undefined }] },
        { lost: 2, duplicates: 1, foreign: 3 },
      ),
      FAULT_AT,
    );
    expect(outages.http).toBe(Infinity);
    expect(verdict.problems).toEqual([
      "2 message(s) lost",
      "1 duplicate deliveries",
      "3 foreign message frame(s) in the drill's rooms",
      "the rooms did not converge within 5 s after the load stopped",
      "the last message of c3 was never acknowledged",
      "still without service when the drill ended: read@lb",
    ]);
  });
});

describe("the runner's alert judgement", () => {
  const passing = (name: DrillResult["name"]): DrillResult => ({
    name,
    recoverySeconds: 1,
    lost: 0,
    duplicates: 0,
    failedRequests: 0,
    degradedSeen: true,
    passed: true,
    alerts: [],
    problems: [],
    details: [],
  });

  it("every drill either requires its alerts or says why they are informational", () => {
    expect(Object.keys(DRILL_ALERTS).sort()).toEqual([...DRILL_NAMES].sort());
    expect(requiredAlerts("rolling-restart")).toEqual(["GoMeetInstanceFlapping"]);
    expect(requiredAlerts("bad-input")).toEqual([]);
    for (const name of DRILL_NAMES) {
      const { required, informational } = DRILL_ALERTS[name];
      expect([name, required.length > 0 || (informational ?? "").length > 10]).toEqual([name, true]);
    }
  });

  it("a required alert that never fired fails the drill", () => {
    const result = passing("instance-kill");
    judgeAlerts(result, ["GoMeetInstanceDown"], []);
    expect(result).toMatchObject({
      passed: false,
      problems: ["required alert GoMeetInstanceDown did not fire within 30 s after the drill"],
    });
  });

  it("a failed Prometheus poll fails the drill: it could not see what fired", () => {
    const result = passing("postgres-failover");
    judgeAlerts(result, [], ["connect ECONNREFUSED 127.0.0.1:9090", "connect ECONNREFUSED 127.0.0.1:9090"]);
    expect(result).toMatchObject({
      passed: false,
      problems: ["2 alert poll(s) of Prometheus failed, e.g. connect ECONNREFUSED 127.0.0.1:9090"],
    });
  });

  it("leaves a drill that passed passing when its required alerts fired, and says when alerts are informational", () => {
    const judged = passing("instance-kill");
    judgeAlerts(judged, [], []);
    expect(judged).toMatchObject({ passed: true, problems: [], details: [] });
    const informational = passing("bad-input");
    judgeAlerts(informational, [], []);
    expect(informational.passed).toBe(true);
    expect(informational.details).toEqual([
      "informational, not required: every input gets a 4xx or an error frame: no 5xx, no instance down",
    ]);
  });

  it("never turns a failed drill into a passing one", () => {
    const result = { ...passing("valkey-failover"), passed: false, problems: ["2 message(s) lost"] };
    judgeAlerts(result, [], []);
    expect(result.passed).toBe(false);
  });
});

describe("valkey-primary-hang after the thaw", () => {
  it("fails when the endpoint routed to the thawed old primary, or a request failed after the thaw", () => {
    const verdict = new Verdict("valkey-primary-hang");
    judgeThaw(verdict, { before: "127.0.0.1:7001", routedAfterThaw: true, failedAfterThaw: 2 });
    expect(verdict.problems).toEqual([
      "the endpoint routed to the thawed old primary 127.0.0.1:7001 before it rejoined as a replica: writes it took would be lost in its resync",
      "2 request(s) failed after the thaw",
    ]);
  });

  it("passes a clean thaw", () => {
    const verdict = new Verdict("valkey-primary-hang");
    judgeThaw(verdict, { before: "127.0.0.1:7001", routedAfterThaw: false, failedAfterThaw: 0 });
    expect(verdict.problems).toEqual([]);
  });
});
