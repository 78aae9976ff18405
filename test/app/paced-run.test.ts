/** PacedRun: at most one run per window, none delayed after a quiet spell (fake timers, no waiting). */
import { PacedRun } from "../../app/src/realtime/paced-run";

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test("after a quiet spell a request runs at the end of the turn; under load, once the window since the last run ends", () => {
  const runs: number[] = [];
  const paced = new PacedRun(10, () => runs.push(performance.now()));
  const start = performance.now();

  paced.request();
  paced.request();
  expect(runs).toHaveLength(0);
  jest.advanceTimersByTime(0);
  expect(runs).toEqual([start]);

  jest.advanceTimersByTime(3);
  paced.request();
  paced.request();
  jest.advanceTimersByTime(6);
  expect(runs).toHaveLength(1);
  jest.advanceTimersByTime(1);
  expect(runs).toEqual([start, start + 10]);

  // Quiet for longer than the window: the next request is not delayed.
  jest.advanceTimersByTime(25);
  paced.request();
  jest.advanceTimersByTime(0);
  expect(runs).toEqual([start, start + 10, start + 35]);
});

test("runNow runs at once and replaces the pending run; a window of 0 runs once per turn", () => {
  let count = 0;
  const paced = new PacedRun(10, () => count++);
  paced.request();
  jest.advanceTimersByTime(0);
  paced.request();
  paced.runNow();
  expect(count).toBe(2);
  jest.advanceTimersByTime(100);
  expect(count).toBe(2);

  let unpaced = 0;
  const everyTurn = new PacedRun(0, () => unpaced++);
  everyTurn.request();
  everyTurn.request();
  jest.advanceTimersByTime(0);
  everyTurn.request();
  jest.advanceTimersByTime(0);
  expect(unpaced).toBe(2);
});
