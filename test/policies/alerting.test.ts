import { TYPES, buildStack, editProps, messagesOf, namesOf, violationsOf, without } from "./fixtures";

const n = namesOf("prod");
const POLICY = "alerting-coverage";
const named = (name: string) => (r: { name: string }) => r.name === name;

describe("rule 8: alerting coverage", () => {
  it("accepts the production alerting (nodes, load balancer, both databases, uptime down_global, every alert notifies)", async () => {
    expect(await violationsOf(buildStack(), POLICY)).toEqual([]);
  });

  it("requires CPU, memory and disk alerts on the nodes", async () => {
    const violations = await violationsOf(without(buildStack(), named("gomeet-prod-node-disk")), POLICY);
    expect(violations).toEqual([expect.objectContaining({ resource: n.doks, level: "mandatory" })]);
    expect(violations[0].message).toContain("(missing: v1/insights/droplet/disk_utilization_percent)");
  });

  it("requires a load balancer alert depending on each LoadBalancer Service", async () => {
    const violations = await violationsOf(without(buildStack(), named("gomeet-prod-lb-5xx")), POLICY);
    expect(violations).toEqual([expect.objectContaining({ resource: n.service })]);
    expect(violations[0].message).toContain(`Service "${n.service}": MonitorAlert (v1/insights/lbaas/*) depending on it is none`);
  });

  it("requires CPU, memory and disk alerts on each database cluster, related by dependency", async () => {
    const violations = await violationsOf(without(buildStack(), named("gomeet-prod-valkey-memory")), POLICY);
    expect(violations).toEqual([expect.objectContaining({ resource: n.valkey })]);
    expect(violations[0].message).toContain("(missing: v1/dbaas/alerts/memory_utilization_alerts)");
  });

  it("does not count a disabled alert", async () => {
    const plan = editProps(buildStack(), "gomeet-prod-postgres-disk", (props) => (props.enabled = false));
    expect(messagesOf(await violationsOf(plan, POLICY))).toEqual([
      expect.stringContaining("(missing: v1/dbaas/alerts/disk_utilization_alerts)"),
    ]);
  });

  it("requires a down_global alert on each uptime check", async () => {
    const violations = await violationsOf(without(buildStack(), named(n.uptimeDown)), POLICY);
    expect(violations).toEqual([expect.objectContaining({ resource: n.uptimeCheck })]);
    expect(violations[0].message).toContain(
      'UptimeAlert types depending on the check is ["latency"]; required an UptimeAlert of type "down_global"',
    );
  });

  it("requires an uptime check at all", async () => {
    const plan = without(buildStack(), (r) => r.type === TYPES.uptimeCheck || r.type === TYPES.uptimeAlert);
    const violations = await violationsOf(plan, POLICY);
    expect(violations).toEqual([
      { policy: POLICY, level: "mandatory", message: expect.stringContaining("Stack: enabled UptimeCheck resources is none") },
    ]);
  });

  it("requires every alert to notify someone", async () => {
    let plan = editProps(buildStack(), n.nodeCpuAlert, (props) => (props.alerts = { emails: [], slacks: [] }));
    plan = editProps(plan, n.uptimeDown, (props) => (props.notifications = []));
    const violations = await violationsOf(plan, POLICY);
    expect(violations.map((v) => v.resource).sort()).toEqual([n.nodeCpuAlert, n.uptimeDown].sort());
    expect(messagesOf(violations)).toContainEqual(
      expect.stringContaining(
        `MonitorAlert "${n.nodeCpuAlert}": alerts.emails / alerts.slacks is {"emails":[],"slacks":[]}; required at least one email address or Slack channel`,
      ),
    );
  });

  it("accepts Slack as the only target", async () => {
    const plan = editProps(
      buildStack(),
      n.nodeCpuAlert,
      (props) => (props.alerts = { emails: [], slacks: [{ channel: "#ops", url: "https://hooks.example/x" }] }),
    );
    expect(await violationsOf(plan, POLICY)).toEqual([]);
  });

  describe("the service's own signals", () => {
    it("requires a ServiceMonitor scraping the app's pods", async () => {
      const violations = await violationsOf(without(buildStack(), named(n.serviceMonitor)), POLICY);
      expect(violations).toEqual([expect.objectContaining({ resource: n.deployment, level: "mandatory" })]);
      expect(violations[0].message).toContain(`Deployment "${n.deployment}": ServiceMonitor scraping its pods is none in the plan`);
    });

    it("does not count a ServiceMonitor that names no port of the Service", async () => {
      const plan = editProps(
        buildStack(),
        n.serviceMonitor,
        (props) => (props.spec.endpoints = [{ port: "http-metrics", path: "/metrics" }]),
      );
      const violations = await violationsOf(plan, POLICY);
      expect(violations).toEqual([expect.objectContaining({ resource: n.deployment })]);
      expect(violations[0].message).toContain(`none of ServiceMonitor "${n.serviceMonitor}" selects a Service in front of them`);
    });

    it("does not count a ServiceMonitor selecting a Service of other pods, or looking in another namespace", async () => {
      let plan = editProps(buildStack(), n.metricsService, (props) => (props.spec.selector = { "app.kubernetes.io/name": "other" }));
      expect(messagesOf(await violationsOf(plan, POLICY))).toEqual([expect.stringContaining("ServiceMonitor scraping its pods")]);
      plan = editProps(buildStack(), n.serviceMonitor, (props) => (props.spec.namespaceSelector = { matchNames: ["monitoring"] }));
      expect(messagesOf(await violationsOf(plan, POLICY))).toEqual([expect.stringContaining("ServiceMonitor scraping its pods")]);
    });

    it("accepts a ServiceMonitor that looks in every namespace", async () => {
      const plan = editProps(buildStack(), n.serviceMonitor, (props) => (props.spec.namespaceSelector = { any: true }));
      expect(await violationsOf(plan, POLICY)).toEqual([]);
    });

    it("requires a PrometheusRule with an alerting rule in the app's namespace", async () => {
      const violations = await violationsOf(without(buildStack(), named(n.prometheusRule)), POLICY);
      expect(violations).toEqual([expect.objectContaining({ resource: n.deployment })]);
      expect(violations[0].message).toContain(
        "PrometheusRule alerting rules in its namespace is none; required a PrometheusRule with at least one alert",
      );
    });

    it("does not count recording rules only", async () => {
      const plan = editProps(
        buildStack(),
        n.prometheusRule,
        (props) => (props.spec.groups = [{ name: "r", rules: [{ record: "x", expr: "up" }] }]),
      );
      expect(messagesOf(await violationsOf(plan, POLICY))).toEqual([
        expect.stringContaining(`PrometheusRule "${n.prometheusRule}" without an alerting rule`),
      ]);
    });
  });

  it("accepts a second uptime check (latency from the nearest region) with its own alert, not one without any", async () => {
    const stack = buildStack();
    const check = stack.find((r) => r.name === n.uptimeCheck)!;
    const latencyCheck = {
      ...check,
      name: `${check.name}-latency`,
      urn: `${check.urn}-latency`,
      props: { ...check.props, regions: ["us_east"] },
    };
    const latencyAlert = {
      ...stack.find((r) => r.name === n.uptimeDown)!,
      name: "gomeet-prod-latency-2",
      urn: "urn:pulumi:prod::gomeet::gomeet:index:Alerting$digitalocean:index/uptimeAlert:UptimeAlert::gomeet-prod-latency-2",
      props: {
        type: "latency",
        threshold: 1000,
        comparison: "greater_than",
        period: "5m",
        checkId: "id",
        notifications: [{ emails: ["oncall@gomeet.example"] }],
      },
      dependencies: [latencyCheck.urn],
    };
    expect(await violationsOf([...stack, latencyCheck, latencyAlert], POLICY)).toEqual([]);
    const silent = await violationsOf([...stack, latencyCheck], POLICY);
    expect(silent).toEqual([expect.objectContaining({ resource: latencyCheck.name })]);
  });
});
