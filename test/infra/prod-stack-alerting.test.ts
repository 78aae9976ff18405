/**
 * The prod stack's alerting under Pulumi's mock runtime: node, load balancer and database alerts, uptime checks,
 * and where they notify, asserted on what the real program registers.
 */
import { loadBalancerIdOf } from "../../infra/app-manifests";
import { DO_LOAD_BALANCER_ID_ANNOTATION } from "../../infra/annotations";
import type { PlannedResource } from "../../preview/plan";
import type { RenderedPlan } from "../../preview/render";
import { nearestProbeRegion } from "../../infra/alerting";
import { all, dependsOn, one, renderRepoStack } from "./plan-helpers";
import { CELLS, T } from "./prod-stack-helpers";

let plan: RenderedPlan;
beforeAll(async () => {
  plan = await renderRepoStack("prod");
});

describe("alerting", () => {
  const alerts = () => all(plan, T.monitor).map((r) => r.props as Record<string, any>);

  test.each(CELLS)("$region nodes: CPU, memory and disk on every worker of the region's cluster", ({ prefix }) => {
    const nodeTypes = alerts()
      .filter((a) => a.tags?.includes(`k8s:${prefix}-doks-id`))
      .map((a) => a.type);
    expect(nodeTypes.sort()).toEqual([
      "v1/insights/droplet/cpu",
      "v1/insights/droplet/disk_utilization_percent",
      "v1/insights/droplet/memory_utilization_percent",
    ]);
  });

  test.each(CELLS)("$region load balancer, named by the id the CCM writes on the Service: 5xx count and p99 over 100 ms", ({ prefix }) => {
    // <prefix>-lb-id: the mock CCM's kubernetes.digitalocean.com/load-balancer-id annotation, not a lookup by name
    const lbId = `${prefix}-lb-id`;
    const lb = alerts().filter((a) => a.entities?.includes(lbId));
    expect(lb.map((a) => a.type).sort()).toEqual([
      "v1/insights/lbaas/high_http_request_response_time_99p",
      "v1/insights/lbaas/increase_in_http_error_rate_count_5xx",
    ]);
    expect(lb.find((a) => a.type.endsWith("99p"))!.value).toBe(100);
    expect(lb.find((a) => a.type.endsWith("count_5xx"))).toMatchObject({ compare: "GreaterThan", value: 50, window: "5m" });
    const service = one(plan, T.service, `${prefix}-service`);
    for (const a of all(plan, T.monitor).filter((r) => (r.props.entities as string[] | undefined)?.includes(lbId))) {
      expect(dependsOn(a, service)).toBe(true);
    }
  });

  test("each database cluster: CPU, memory and disk", () => {
    for (const db of all(plan, T.db)) {
      const watching = all(plan, T.monitor).filter((a) => (a.props.entities as string[] | undefined)?.includes(`${db.name}-id`));
      expect(watching.map((a) => a.props.type).sort()).toEqual([
        "v1/dbaas/alerts/cpu_alerts",
        "v1/dbaas/alerts/disk_utilization_alerts",
        "v1/dbaas/alerts/memory_utilization_alerts",
      ]);
      for (const a of watching) expect(dependsOn(a, db)).toBe(true);
    }
  });

  const on = (check: PlannedResource) =>
    all(plan, T.uptimeAlert)
      .filter((a) => dependsOn(a, check))
      .map((a) => a.props as Record<string, any>);

  test.each(CELLS)(
    "$region: availability of the region's own host from four regions (down_global), latency from the region nearest it, certificate expiry",
    ({ prefix, region }) => {
      const global = one(plan, T.uptime, `${prefix}-uptime`);
      const latency = one(plan, T.uptime, `${prefix}-uptime-latency`);
      const target = `https://${region}.meet.gomeet.example/readyz`;
      expect(global.props).toMatchObject({ target, type: "https", regions: ["us_east", "us_west", "eu_west", "se_asia"] });
      expect(latency.props).toMatchObject({ target, type: "https", regions: [nearestProbeRegion(region)] });
      expect(nearestProbeRegion(region)).toBe("us_east"); // nyc3 and tor1 alike
      expect(
        on(global)
          .map((a) => a.type)
          .sort(),
      ).toEqual(["down_global", "ssl_expiry"]);
      // Internet path and TLS handshake included: its own threshold (alerts.uptimeLatencyMs), not the app's 100 ms p99.
      expect(on(latency)).toEqual([
        expect.objectContaining({ type: "latency", comparison: "greater_than", threshold: 1000, period: "5m" }),
      ]);
    },
  );

  test("the public host, through the GLOBAL load balancer, is checked from four regions and alerts when down everywhere", () => {
    expect(all(plan, T.uptime)).toHaveLength(2 * CELLS.length + 1);
    const check = one(plan, T.uptime, "gomeet-prod-uptime-global");
    expect(check.props).toMatchObject({
      target: "https://meet.gomeet.example/readyz",
      type: "https",
      regions: ["us_east", "us_west", "eu_west", "se_asia"],
    });
    expect(on(check)).toEqual([expect.objectContaining({ type: "down_global", period: "2m" })]);
  });

  test("a ready Service without the CCM's load balancer id is a clear error, not a lookup by name", () => {
    expect(loadBalancerIdOf("gomeet-prod-lb", { [DO_LOAD_BALANCER_ID_ANNOTATION]: "4de7ac8b-495b-4884-9a69-1050c6793cd6" })).toBe(
      "4de7ac8b-495b-4884-9a69-1050c6793cd6",
    );
    expect(() => loadBalancerIdOf("gomeet-prod-lb", {})).toThrow(
      /load balancer gomeet-prod-lb: the Service is ready but has no kubernetes\.digitalocean\.com\/load-balancer-id annotation/,
    );
  });

  test("the probe region nearest each DigitalOcean region", () => {
    expect(["nyc3", "tor1", "sfo3", "ams3", "lon1", "fra1", "sgp1", "blr1", "syd1"].map(nearestProbeRegion)).toEqual([
      "us_east",
      "us_east",
      "us_west",
      "eu_west",
      "eu_west",
      "eu_west",
      "se_asia",
      "se_asia",
      "se_asia",
    ]);
  });

  test("every alert notifies the configured emails and Slack (the webhook stays secret)", () => {
    for (const a of alerts()) {
      expect(a.alerts.emails).toEqual(["oncall@gomeet.example"]);
      expect(a.alerts.slacks).toEqual([{ channel: "#gomeet-alerts", url: expect.any(String) }]);
    }
    for (const a of all(plan, T.uptimeAlert)) {
      expect((a.props.notifications as any[])[0].emails).toEqual(["oncall@gomeet.example"]);
      expect(a.secretPaths).toContain("notifications");
    }
  });
});
