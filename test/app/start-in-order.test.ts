/**
 * The app's start sequence (wiring/lifecycle.ts): parts start one after the other, and a part that
 * fails to start stops the ones already started, newest first, before the error reaches the caller.
 */
import { startInOrder } from "../../app/src/wiring/lifecycle";

function recorder() {
  const events: string[] = [];
  const step = (name: string, fail = false) => ({
    start: async () => {
      events.push(`start ${name}`);
      if (fail) throw new Error(`${name} could not start`);
    },
    stop: async () => {
      events.push(`stop ${name}`);
    },
  });
  return { events, step };
}

test("starts every step in order and stops none when all start", async () => {
  const { events, step } = recorder();
  await startInOrder([step("valkey"), step("postgres"), step("server")]);
  expect(events).toEqual(["start valkey", "start postgres", "start server"]);
});

test("a failing step stops the started ones in reverse order, skips the rest, and rethrows its error", async () => {
  const { events, step } = recorder();
  const migrate = { start: async () => void events.push("start migrate") };
  await expect(startInOrder([step("valkey"), migrate, step("postgres"), step("presence", true), step("server")])).rejects.toThrow(
    "presence could not start",
  );
  expect(events).toEqual(["start valkey", "start migrate", "start postgres", "start presence", "stop postgres", "stop valkey"]);
});
