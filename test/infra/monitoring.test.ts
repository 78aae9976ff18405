/**
 * Monitoring in the prod plan (Pulumi mocks): the pinned kube-prometheus-stack release with bounded retention and
 * resources, Alertmanager's config as a secret routing to the stack's emails and Slack, the app's metrics Service,
 * ServiceMonitor and PrometheusRule (valid Prometheus Operator objects that select each other), and the dashboard.
 */
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { parse } from "yaml";
import { prometheusRuleSpec } from "../../infra/alert-rules";
import { Registry } from "prom-client";
import { FailoverController } from "../../app/src/failover/controller";
import { MemoryJournal } from "../../app/src/failover/journal";
import type { FailoverDriver, FailoverLog } from "../../app/src/failover/types";
import { AppMetrics } from "../../app/src/metrics";
import type { RenderedPlan } from "../../preview/render";
import { all, dependsOn, one, parentName, renderRepoStack } from "./plan-helpers";
import { CELLS } from "./prod-stack-helpers";

const T = {
  release: "kubernetes:helm.sh/v3:Release",
  serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
  prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
  service: "kubernetes:core/v1:Service",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
  namespace: "kubernetes:core/v1:Namespace",
  deployment: "kubernetes:apps/v1:Deployment",
};

/** The monitoring release (the stack has other releases, e.g. metrics-server). */
const RELEASE = "gomeet-prod-monitoring";

let plan: RenderedPlan;
beforeAll(async () => {
  plan = await renderRepoStack("prod");
});

const props = (type: string, name?: string) => one(plan, type, name).props as Record<string, any>;
/** Whether `path` is secret: it or an enclosing object is among the secret paths. */
const isSecret = (secretPaths: string[], path: string) => secretPaths.some((p) => path === p || path.startsWith(`${p}.`));
const values = () => props(T.release, RELEASE).values as Record<string, any>;

describe("kube-prometheus-stack release", () => {
  test.each(CELLS)(
    "$region: pinned chart from the prometheus-community repository, in its own namespace, in the Monitoring component",
    ({ prefix, part }) => {
      const release = one(plan, T.release, `${prefix}-monitoring`);
      expect(release.props).toMatchObject({
        name: "monitoring",
        chart: "kube-prometheus-stack",
        version: "88.5.3",
        repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" },
        namespace: "monitoring",
      });
      expect(release.props.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(parentName(plan, release)).toBe(`${part}monitoring`);
    },
  );

  test("bounded retention (time and size) on persistent block storage", () => {
    const spec = values().prometheus.prometheusSpec;
    expect(spec).toMatchObject({ retention: "15d", retentionSize: "8GiB" });
    expect(spec.storageSpec.volumeClaimTemplate.spec).toMatchObject({
      storageClassName: "do-block-storage",
      resources: { requests: { storage: "10Gi" } },
    });
    expect(values().alertmanager.alertmanagerSpec.retention).toBe("120h");
  });

  test("every component has resource requests and limits", () => {
    const v = values();
    const all = {
      prometheus: v.prometheus.prometheusSpec.resources,
      alertmanager: v.alertmanager.alertmanagerSpec.resources,
      operator: v.prometheusOperator.resources,
      grafana: v.grafana.resources,
      kubeStateMetrics: v["kube-state-metrics"].resources,
      nodeExporter: v["prometheus-node-exporter"].resources,
    };
    for (const [component, r] of Object.entries(all)) {
      expect({ component, requests: Object.keys(r.requests).sort(), limits: Object.keys(r.limits).sort() }).toEqual({
        component,
        requests: ["cpu", "memory"],
        limits: ["cpu", "memory"],
      });
    }
  });

  test("selects every ServiceMonitor and PrometheusRule, not only the release's own", () => {
    expect(values().prometheus.prometheusSpec).toMatchObject({
      serviceMonitorSelectorNilUsesHelmValues: false,
      ruleSelectorNilUsesHelmValues: false,
    });
  });

  test("nothing DOKS does not run is scraped or alerted on: control plane pieces, and kube-proxy (DOKS runs Cilium)", () => {
    // kube-prometheus-stack 88.5.3 values.yaml: kubeProxy.enabled and defaultRules.rules.kubeProxy default to true;
    // templates/prometheus/rules-1.14/kubernetes-system-kube-proxy.yaml renders KubeProxyDown (critical) unless either is off.
    const v = values();
    for (const component of ["kubeScheduler", "kubeEtcd", "kubeControllerManager", "kubeProxy"]) {
      expect({ component, enabled: v[component]?.enabled }).toEqual({ component, enabled: false });
    }
    expect(v.defaultRules.rules).toMatchObject({ etcd: false, kubeControllerManager: false, kubeProxy: false });
  });

  test("no credential in the release values: Alertmanager and Grafana read Secrets", () => {
    const release = one(plan, T.release, RELEASE);
    expect(release.secretPaths).toEqual([]);
    const alertmanager = parse(props(T.secret, "gomeet-prod-alertmanager-config").stringData["alertmanager.yaml"]) as Record<string, any>;
    const credentials = [
      alertmanager.global.smtp_auth_password,
      alertmanager.receivers[1].slack_configs[0].api_url,
      "offline-random-password",
    ];
    for (const credential of credentials) expect(JSON.stringify(release.props.values)).not.toContain(credential);
    expect(values().alertmanager.alertmanagerSpec).toMatchObject({ useExistingSecret: true, configSecret: "alertmanager-gomeet" });
    expect(values().grafana.admin).toEqual({ existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
    const grafana = one(plan, T.secret, "gomeet-prod-grafana-admin");
    expect(isSecret(grafana.secretPaths, "stringData.admin-password")).toBe(true);
    expect(Object.keys(grafana.props.stringData as object).sort()).toEqual(["admin-password", "admin-user"]);
  });

  test("the release waits for its Secrets", () => {
    const release = one(plan, T.release, RELEASE);
    expect(dependsOn(release, one(plan, T.secret, "gomeet-prod-alertmanager-config"))).toBe(true);
    expect(dependsOn(release, one(plan, T.secret, "gomeet-prod-grafana-admin"))).toBe(true);
  });
});

describe("Alertmanager", () => {
  const secret = () => one(plan, T.secret, "gomeet-prod-alertmanager-config");
  const config = () => parse((secret().props.stringData as Record<string, string>)["alertmanager.yaml"]!) as Record<string, any>;

  test("its config is a secret, in the release's namespace, under the name the release reads", () => {
    expect(isSecret(secret().secretPaths, "stringData.alertmanager.yaml")).toBe(true);
    expect(secret().props.metadata).toMatchObject({ name: "alertmanager-gomeet", namespace: "monitoring" });
    expect(() => new Secret(secret().props as any).validate()).not.toThrow();
  });

  test("every alert goes to the stack's emails (through its SMTP relay) and Slack channel", () => {
    const c = config();
    expect(c.route.receiver).toBe("oncall");
    const oncall = c.receivers.find((r: { name: string }) => r.name === "oncall");
    expect(oncall.email_configs).toEqual([{ to: "oncall@gomeet.example", send_resolved: true }]);
    expect(oncall.slack_configs).toEqual([
      expect.objectContaining({ channel: "#gomeet-alerts", send_resolved: true, api_url: expect.any(String) }),
    ]);
    expect(oncall.slack_configs[0].text).toContain("{{ .Annotations.runbook_url }}");
    expect(c.global).toMatchObject({
      smtp_smarthost: "smtp.gomeet.example:587",
      smtp_from: "alertmanager@gomeet.example",
      smtp_require_tls: true,
    });
    expect(c.global.smtp_auth_password).toEqual(expect.any(String));
  });

  test("the chart's Watchdog goes nowhere; a critical alert silences the warning of the same name", () => {
    const c = config();
    expect(c.route.routes).toEqual([{ receiver: "null", matchers: ['alertname =~ "Watchdog|InfoInhibitor"'] }]);
    expect(c.inhibit_rules[0]).toMatchObject({ source_matchers: ["severity = critical"], equal: ["namespace", "alertname"] });
  });
});

describe.each(CELLS)("the app's scrape in $region", ({ prefix }) => {
  const metricsService = () => props(T.service, `${prefix}-metrics-service`);
  const monitor = () => props(T.serviceMonitor, `${prefix}-service-monitor`);
  const deployment = () => props(T.deployment, `${prefix}-app`);

  test("one ServiceMonitor and one PrometheusRule per region", () => {
    expect(
      all(plan, T.serviceMonitor)
        .map((r) => r.name)
        .sort(),
    ).toEqual(CELLS.map((c) => `${c.prefix}-service-monitor`).sort());
    expect(
      all(plan, T.prometheusRule)
        .map((r) => r.name)
        .sort(),
    ).toEqual(CELLS.map((c) => `${c.prefix}-prometheus-rule`).sort());
  });

  test("a ClusterIP Service targets the app's own metrics port; the ServiceMonitor selects it by label and port name", () => {
    const service = metricsService();
    expect(service.spec).toMatchObject({ type: "ClusterIP", ports: [{ name: "metrics", port: 9091, targetPort: "metrics" }] });
    const container = deployment().spec.template.spec.containers[0];
    expect(container.ports).toContainEqual({ name: "metrics", containerPort: 9091, protocol: "TCP" });
    expect(container.env).toContainEqual({ name: "METRICS_PORT", value: "9091" });
    new Service(service as ConstructorParameters<typeof Service>[0]).validate();
    const podLabels = deployment().spec.template.metadata.labels as Record<string, string>;
    expect(podLabels).toMatchObject(service.spec.selector);
    const containerPorts = deployment().spec.template.spec.containers[0].ports as Array<{ name: string }>;
    expect(containerPorts.map((p) => p.name)).toContain(service.spec.targetPort ?? service.spec.ports[0].targetPort);

    const spec = monitor().spec;
    expect(service.metadata.labels).toMatchObject(spec.selector.matchLabels);
    expect(spec.endpoints).toEqual([{ port: "metrics", path: "/metrics", interval: "15s", scrapeTimeout: "10s" }]);
    expect(spec.namespaceSelector).toEqual({ matchNames: [service.metadata.namespace] });
    expect(monitor().metadata.namespace).toBe("gomeet");
  });

  test("the load balancer's Service does not expose the metrics port", () => {
    const publicService = props(T.service, `${prefix}-service`);
    expect(publicService.spec.type).toBe("LoadBalancer");
    const targets = (publicService.spec.ports as Array<{ port: number; targetPort: unknown }>).map((p) => p.targetPort);
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.every((t) => t === "http")).toBe(true);
    expect(publicService.spec.ports.map((p: { port: number }) => p.port)).not.toContain(9091);
  });

  test("the job is `gomeet`, the name the rules select (jobLabel names the Service's label)", () => {
    expect(metricsService().metadata.labels[monitor().spec.jobLabel]).toBe("gomeet");
  });

  test("the ServiceMonitor and PrometheusRule wait for the release (their CRDs come with it)", () => {
    const release = one(plan, T.release, `${prefix}-monitoring`);
    expect(dependsOn(one(plan, T.serviceMonitor, `${prefix}-service-monitor`), release)).toBe(true);
    expect(dependsOn(one(plan, T.prometheusRule, `${prefix}-prometheus-rule`), release)).toBe(true);
  });
});

describe.each(CELLS)("alert rules and dashboard in $region", ({ prefix }) => {
  const rule = () => props(T.prometheusRule, `${prefix}-prometheus-rule`);

  test("the PrometheusRule holds the rules of infra/alert-rules.ts with the prod thresholds", () => {
    expect(rule().spec).toEqual(
      prometheusRuleSpec({
        haFloor: 3,
        fanoutP99Seconds: 0.1,
        forScale: 1,
        runbookBaseUrl: "https://git.gomeet.example/gomeet/gomeet-ha/blob/main",
      }),
    );
    const rules = rule().spec.groups[0].rules as Array<{ alert: string; expr: string }>;
    expect(rules.find((r) => r.alert === "GoMeetReplicasBelowFloor")?.expr).toContain("< 3");
  });

  test("the dashboard ConfigMap carries the sidecar's label and a dashboard over the app's metrics", () => {
    const cm = props(T.configMap, `${prefix}-dashboard`);
    expect(cm.metadata).toMatchObject({ namespace: "monitoring", labels: { grafana_dashboard: "1" } });
    const dashboard = JSON.parse(cm.data["gomeet-service.json"]);
    expect(dashboard).toMatchObject({ uid: "gomeet-service", title: "GoMeet service" });
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
  });

  test("every gomeet_* series the rules and the dashboard read is one the app or the failover controller exports", async () => {
    const metrics = new AppMetrics("test");
    // The failover rules (job gomeet-failover) read the controller's own series; it registers them when constructed.
    const controllerRegistry = new Registry();
    const driver = { vantagePoints: () => [{ name: "probe", probe: async () => true }] } as unknown as FailoverDriver;
    new FailoverController({
      mode: "manual",
      from: "nyc3",
      to: "tor1",
      driver,
      journal: new MemoryJournal(),
      detector: { windowMs: 150, intervalMs: 20, probeTimeoutMs: 15 },
      registry: controllerRegistry,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as FailoverLog,
    });
    const exported = new Set<string>();
    for (const m of [...(await metrics.registry.getMetricsAsJSON()), ...(await controllerRegistry.getMetricsAsJSON())]) {
      exported.add(m.name);
      if (String(m.type) === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) exported.add(`${m.name}${suffix}`);
    }
    const text = JSON.stringify(rule().spec) + props(T.configMap, `${prefix}-dashboard`).data["gomeet-service.json"];
    const used = new Set(text.match(/gomeet_[a-z_]+/g));
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(10);
  });

  test("rendered objects are valid against the Kubernetes and Prometheus Operator schemas", () => {
    const checks: Array<[string, string, new (data: any) => { validate(): void }]> = [
      [T.serviceMonitor, `${prefix}-service-monitor`, ServiceMonitor],
      [T.prometheusRule, `${prefix}-prometheus-rule`, PrometheusRule],
      [T.service, `${prefix}-metrics-service`, Service],
      [T.configMap, `${prefix}-dashboard`, ConfigMap],
      [T.namespace, `${prefix}-monitoring-ns`, Namespace],
      [T.secret, `${prefix}-grafana-admin`, Secret],
    ];
    for (const [type, name, Model] of checks) expect(() => new Model(props(type, name)).validate()).not.toThrow();
  });
});
