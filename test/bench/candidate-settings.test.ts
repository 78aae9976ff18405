/** The benchmark's GOMEET_BENCH_CANDIDATE_ENV: what it accepts, and errors that name the bad item. */
import { describeCandidate, parseCandidateSettings } from "../../bench/systems";

test("NAME=value pairs, comma-separated, spaces around items ignored; a value may be empty or contain =", () => {
  expect(parseCandidateSettings("WS_PUBLISH_BATCH_MS=5, WS_DELIVERY_BATCH_MS=10")).toEqual({
    WS_PUBLISH_BATCH_MS: "5",
    WS_DELIVERY_BATCH_MS: "10",
  });
  expect(parseCandidateSettings("A=,B=x=y")).toEqual({ A: "", B: "x=y" });
});

test.each([
  ["WS_PUBLISH_BATCH_MS", '"WS_PUBLISH_BATCH_MS" is not NAME=value'],
  ["ws_publish_batch_ms=5", '"ws_publish_batch_ms=5" is not NAME=value'],
  [" , ", "names no setting"],
])("%j is refused: %s", (text, message) => {
  expect(() => parseCandidateSettings(text)).toThrow(message);
});

test("the report names the candidate: its entry (or this build) and its settings", () => {
  expect(describeCandidate({})).toBeUndefined();
  expect(describeCandidate({ candidateSettings: { WS_PUBLISH_BATCH_MS: "5" } })).toBe("this build, WS_PUBLISH_BATCH_MS=5");
  expect(describeCandidate({ candidateEntry: "/tmp/other/main.ts" })).toBe("/tmp/other/main.ts");
});
