/**
 * How the drills judge what they saw (no servers): outage episodes, losses and duplicates, the
 * malformed-input generators (never a valid input, reproducible from the seed), the report shapes,
 * the missing-binary error, and the cluster prompt's errors.
 */
import type { BadTokens } from "../../drills/bad-input/bad-tokens";
import { httpInput } from "../../drills/bad-input/http-inputs";
import { frameInput, isValidClientFrame, upgradeInput } from "../../drills/bad-input/ws-inputs";
import { Random } from "../../drills/bad-input/random";
import { deliveryReport, roomsConverged, type ClientRecord } from "../../drills/load/delivery";
import { longestOutage, outageEpisodes } from "../../drills/load/episodes";
import { drillsDocument, formatMarkdownTable, formatTable } from "../../drills/report";
import type { DrillResult } from "../../drills/types";
import { checkClusterBinaries, MissingBinaryError } from "../../harness/cluster/preflight";
import { ControlError, runControlCommand } from "../../harness/cluster/control";
import { findBinaryIn, type BinaryName } from "../../harness/binaries";

describe("outage episodes", () => {
  const ok = (at: number) => ({ at, ok: true });
  const fail = (at: number) => ({ at, ok: false });

  it("run from the last success before a failure to the first success after it; consecutive failures are one episode", () => {
    expect(outageEpisodes("c", [ok(100), ok(200), fail(250), fail(400), ok(900), ok(1000), fail(1100), ok(1150)], 0)).toEqual([
      { source: "c", start: 200, end: 900 },
      { source: "c", start: 1000, end: 1150 },
    ]);
  });

  it("an outage before any success starts when the observation did; one that never ends has no end", () => {
    expect(outageEpisodes("c", [fail(50), ok(300), fail(400)], 10)).toEqual([
      { source: "c", start: 10, end: 300 },
      { source: "c", start: 300, end: undefined },
    ]);
  });

  it("the longest outage counts only episodes that ended after the fault, and is infinite if one never ended", () => {
    const episodes = [
      { source: "a", start: 0, end: 5000 },
      { source: "b", start: 9000, end: 9700 },
      { source: "c", start: 9100, end: 9300 },
    ];
    expect(longestOutage(episodes, 8000)).toBe(700);
    expect(longestOutage([], 0)).toBe(0);
    expect(longestOutage([...episodes, { source: "d", start: 9500, end: undefined }], 8000)).toBe(Infinity);
  });
});

describe("losses and duplicates", () => {
  function client(id: string, received: Record<string, number[]>, acked: number[] = [], unacknowledged: number[] = []): ClientRecord {
    return {
      id,
      received: new Map(Object.entries(received)),
      acks: acked.map((n) => ({ n, sentAt: 0, ackAt: 1, seq: n })),
      foreign: [],
      foreignCount: 0,
      resends: 0,
      unacknowledged: unacknowledged.map((n) => ({ c: id, n })),
      welcomes: [{ instance: "app-1", since: undefined, seq: 0, recovered: false }],
    };
  }

  it("a message any member saw is owed to every member; each further delivery is a duplicate", () => {
    const rooms = new Map([
      ["r1", [client("a", { "a#1": [1], "a#2": [2], "b#1": [3] }, [1, 2]), client("b", { "a#1": [1], "b#1": [3, 3] }, [1])]],
    ]);
    const report = deliveryReport(rooms);
    expect(report).toMatchObject({ accepted: 3, lost: 1, duplicates: 1, foreign: 0 });
    expect(report.examples.join("\n")).toMatch(/b never received a#2/);
    expect(roomsConverged(rooms)).toBe(false);
  });

  it("a message its sender never got accepted is lost; one from outside the room is foreign", () => {
    const report = deliveryReport(
      new Map([
        ["r1", [client("a", { "a#1": [1], "mallory#1": [2] }, [1], [2])]],
        ["r2", [client("z", {})]],
      ]),
    );
    expect(report).toMatchObject({ accepted: 1, lost: 1, duplicates: 0, foreign: 1 });
  });

  it("rooms whose members all have every message have converged", () => {
    expect(roomsConverged(new Map([["r", [client("a", { "a#1": [1] }, [1]), client("b", { "a#1": [1] })]]]))).toBe(true);
  });
});

describe("malformed-input generators", () => {
  const tokens: BadTokens = { list: [{ label: "forged", token: "x.y.z" }] };
  const room = "realRoom";
  const valid = "valid.token.here";

  it("never produce a valid WebSocket frame, and are reproducible from the seed", () => {
    const a = new Random(7);
    const b = new Random(7);
    const problems: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const frame = frameInput(a, i, 1024);
      const again = frameInput(b, i, 1024);
      if (frame.category !== again.category || !Buffer.from(frame.data).equals(Buffer.from(again.data)))
        problems.push(`${i}: not reproducible`);
      if (!frame.binary && frame.closes === undefined && isValidClientFrame(frame.data.toString()))
        problems.push(`${i}: valid frame ${frame.data.toString()}`);
      if (frame.closes === 1009 && frame.data.length <= 1024) problems.push(`${i}: "oversized" frame of ${frame.data.length} bytes`);
    }
    expect(problems).toEqual([]);
    expect(isValidClientFrame('{"type":"message","data":null}')).toBe(true);
  });

  it("never combine a valid token with an acceptable request", () => {
    const rng = new Random(11);
    const accepted: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const input = httpInput(rng, i, room, valid, tokens);
      if (input.headers.authorization !== `Bearer ${valid}`) continue;
      const isJson = /^application\/json\b/i.test(input.headers["content-type"] ?? "");
      let body: unknown;
      try {
        body = input.body === undefined ? undefined : JSON.parse(input.body.toString());
      } catch {
        continue; // not JSON: refused
      }
      if (input.method === "POST" && input.path === "/rooms") {
        const name = (body as { name?: unknown } | undefined)?.name;
        const acceptable =
          isJson && typeof name === "string" && name.trim().length >= 1 && name.trim().length <= 100 && !name.includes("\u0000");
        if (acceptable) accepted.push(`${input.category}: ${input.method} ${input.path}`);
      }
      if (input.method === "POST" && input.path === `/rooms/${room}/token`) {
        const acceptable =
          isJson &&
          (body === undefined ||
            (typeof body === "object" &&
              body !== null &&
              !Array.isArray(body) &&
              Object.values(body).every((v) => typeof v === "boolean")));
        if (acceptable) accepted.push(`${input.category}: ${input.method} ${input.path}`);
      }
      if (input.method === "GET" && (input.path === `/rooms/${room}` || input.path === `/rooms/${room}/participants`))
        accepted.push(`${input.category}: GET ${input.path}`);
    }
    for (let i = 0; i < 2000; i++) {
      const { path } = upgradeInput(rng, i, room, valid, tokens);
      const url = new URL(path, "http://x");
      const since = url.searchParams.get("since");
      if (
        url.pathname === "/ws" &&
        url.searchParams.get("room") === room &&
        url.searchParams.get("access_token") === valid &&
        (since === null || /^\d{1,15}$/.test(since))
      )
        accepted.push(`upgrade ${path}`);
    }
    expect(accepted).toEqual([]);
  });
});

describe("reports", () => {
  const result: DrillResult = {
    name: "instance-kill",
    recoverySeconds: 0.42,
    lost: 0,
    duplicates: 0,
    failedRequests: 1,
    degradedSeen: false,
    passed: true,
    alerts: [{ name: "GoMeetInstanceDown", firedAfterSeconds: 4.2 }],
    problems: [],
    details: ["400 messages accepted"],
  };

  it("--json has exactly the fields of the drills document", () => {
    expect(
      drillsDocument([result, { ...result, name: "bad-input", recoverySeconds: null, passed: false, alerts: [], problems: ["x"] }]),
    ).toEqual({
      drills: [
        {
          name: "instance-kill",
          recoverySeconds: 0.42,
          lost: 0,
          duplicates: 0,
          failedRequests: 1,
          degradedSeen: false,
          passed: true,
          alerts: [{ name: "GoMeetInstanceDown", firedAfterSeconds: 4.2 }],
        },
        {
          name: "bad-input",
          recoverySeconds: null,
          lost: 0,
          duplicates: 0,
          failedRequests: 1,
          degradedSeen: false,
          passed: false,
          alerts: [],
        },
      ],
    });
  });

  it("the table has one row per drill, then each drill's problems and figures", () => {
    const table = formatTable([result, { ...result, name: "valkey-failover", passed: false, problems: ["2 message(s) lost"] }]);
    expect(table.split("\n")[0]).toMatch(/^drill\s+recovery\s+lost\s+duplicates\s+failed requests\s+degraded seen\s+result$/);
    expect(table).toMatch(/instance-kill\s+0\.42 s\s+0\s+0\s+1\s+no\s+PASS/);
    expect(table).toMatch(/FAIL: 2 message\(s\) lost/);
    expect(formatMarkdownTable([result])).toMatch(
      /\| `instance-kill` \| 0\.42 s \| 0 \| 0 \| 1 \| no \| pass \| GoMeetInstanceDown after 4\.20 s \|/,
    );
    expect(table).toMatch(/instance-kill:\n {2}alerts: GoMeetInstanceDown after 4\.20 s\n/);
    expect(table).toMatch(/valkey-failover:\n {2}FAIL: 2 message\(s\) lost\n {2}alerts: GoMeetInstanceDown after 4\.20 s/);
  });
});

describe("cluster start-up checks", () => {
  it("a missing binary is named with the Debian package that provides it, before anything starts", () => {
    const find = (name: BinaryName): string =>
      name === "nginx" || name === "haproxy" ? findBinaryIn(name, ["/nonexistent"]) : `/usr/bin/${name}`;
    expect(() => checkClusterBinaries(find)).toThrow(MissingBinaryError);
    try {
      checkClusterBinaries(find);
    } catch (error) {
      expect((error as Error).message).toMatch(/nginx not found .*apt-get install -y nginx-light/);
      expect((error as Error).message).toMatch(/haproxy not found .*apt-get install -y haproxy/);
    }
  });

  it("the prompt names what it accepts when a command or a piece is unknown", async () => {
    const pieces = new Map();
    await expect(runControlCommand(pieces, "explode app-1")).rejects.toThrow(ControlError);
    await expect(runControlCommand(pieces, "kill app-9")).rejects.toThrow(/unknown piece "app-9"/);
    await expect(runControlCommand(pieces, "kill")).rejects.toThrow(/takes exactly one piece/);
    expect(await runControlCommand(pieces, "   ")).toBe("");
  });
});
