/**
 * The app's start sequence (wiring/lifecycle.ts): parts start one after the other, and a part that
 * fails to start is stopped itself (it may have started part-way), then the ones already started,
 * newest first, before the error reaches the caller.
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

test("a failing step is stopped, then the started ones in reverse order; the rest are skipped and its error is rethrown", async () => {
  const { events, step } = recorder();
  const migrate = { start: async () => void events.push("start migrate") };
  await expect(startInOrder([step("valkey"), migrate, step("postgres"), step("presence", true), step("server")])).rejects.toThrow(
    "presence could not start",
  );
  expect(events).toEqual([
    "start valkey",
    "start migrate",
    "start postgres",
    "start presence",
    "stop presence",
    "stop postgres",
    "stop valkey",
  ]);
});

test("a step that fails part-way (one of two connections up) has its stop called, which closes what did start", async () => {
  const open = new Set<string>();
  const valkey = {
    start: async () => {
      open.add("command connection");
      throw new Error("subscribe connection refused");
    },
    stop: async () => {
      open.clear();
    },
  };
  await expect(startInOrder([valkey])).rejects.toThrow("subscribe connection refused");
  expect(open.size).toBe(0);
});

test("a stop that fails does not keep the other stops from running, and its error is reported with the start error", async () => {
  const { events, step } = recorder();
  const stubborn = {
    start: async () => void events.push("start db"),
    stop: async () => {
      events.push("stop db");
      throw new Error("pool would not end");
    },
  };
  const failure = startInOrder([step("valkey"), stubborn, step("presence", true)]);
  await expect(failure).rejects.toThrow(AggregateError);
  const error = (await failure.catch((e: unknown) => e)) as AggregateError;
  expect(error.message).toMatch(/^presence could not start \(stopping what had started failed too: pool would not end\)$/);
  expect(error.errors.map((e: Error) => e.message)).toEqual(["presence could not start", "pool would not end"]);
  expect(events).toEqual(["start valkey", "start db", "start presence", "stop presence", "stop db", "stop valkey"]);
});
