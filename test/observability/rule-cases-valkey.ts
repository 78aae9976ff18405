/**
 * promtool cases of the Valkey write-refusal alert (rule-cases.ts holds the others; same conventions:
 * series as scraped, `job="gomeet"` and the scrape's `instance`, one sample a minute).
 */
import type { AlertCase } from "./rule-cases";

const app = (labels: string) => `{job="gomeet",${labels}}`;
const A = 'instance="10.0.0.1:8080"';
const B = 'instance="10.0.0.2:8080"';

export const VALKEY_ALERT_CASES: AlertCase[] = [
  {
    alert: "GoMeetValkeyRefusingWrites",
    title: "Valkey refusing writes for a minute fires",
    series: [
      [`gomeet_redis_writes_refused${app(A)}`, "0 1 1 1"],
      [`gomeet_redis_writes_refused${app(B)}`, "0 0 1 1"],
    ],
    evalTime: "3m",
    fires: [
      {
        labels: { severity: "critical" },
        description:
          "Valkey has answered OOM to GoMeet's writes for a minute: no join, message or presence change succeeds, and /readyz answers 503.",
      },
    ],
  },
  {
    alert: "GoMeetValkeyRefusingWrites",
    title: "refusals that stop within a minute stay quiet",
    series: [
      [`gomeet_redis_writes_refused${app(A)}`, "0 1 0 0 0"],
      [`gomeet_redis_writes_refused${app(B)}`, "0 0 0 0 0"],
    ],
    evalTime: "4m",
    fires: [],
  },
];
