/**
 * The prod stack's security baseline under the mock runtime: the app namespace's Pod Security labels,
 * ServiceAccount, PriorityClass and NetworkPolicies (each a valid Kubernetes object), the pod spec that
 * uses them, DigitalOcean's database CA handed to the app, its browser origins; and, on this real plan,
 * each object's policy failing once the object is removed.
 */
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PriorityClass } from "kubernetes-models/scheduling.k8s.io/v1";
import { ConfigMap, Namespace, ServiceAccount } from "kubernetes-models/v1";
import type { PlannedResource } from "../../preview/plan";
import { runPolicies } from "../../preview/runner";
import { MOCK_DATABASE_CA } from "../../preview/mocks";
import type { RenderedPlan } from "../../preview/render";
import { all, dependsOn, one, renderRepoStack } from "./plan-helpers";
import { CELLS, PRIMARY } from "./prod-stack-helpers";

const T = {
  namespace: "kubernetes:core/v1:Namespace",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  priorityClass: "kubernetes:scheduling.k8s.io/v1:PriorityClass",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  configMap: "kubernetes:core/v1:ConfigMap",
  deployment: "kubernetes:apps/v1:Deployment",
};

let plan: RenderedPlan;
beforeAll(async () => {
  plan = await renderRepoStack("prod");
});

const props = (type: string, name?: string) => one(plan, type, name).props as Record<string, any>;
const pod = (prefix: string) => props(T.deployment, `${prefix}-app`).spec.template.spec;
const env = (prefix: string) =>
  Object.fromEntries((pod(prefix).containers[0].env as Array<{ name: string; value?: string }>).map((e) => [e.name, e.value]));
/** The app's NetworkPolicies of one region (the standby's failover controller has its own, `<prefix>-failover-egress`). */
const appPolicies = (prefix: string) => all(plan, T.networkPolicy).filter((r) => r.name.startsWith(`${prefix}-netpol-`));

test.each(CELLS)(
  "$region: the app namespace enforces, audits and warns on restricted, pinned to the cluster's minor version",
  ({ prefix }) => {
    const namespace = props(T.namespace, `${prefix}-ns`);
    expect(namespace.metadata.labels).toEqual({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "v1.33",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "v1.33",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "v1.33",
    });
    new Namespace({ metadata: namespace.metadata }).validate();
  },
);

test.each(CELLS)(
  "$region: the pods run as their own ServiceAccount without a token, with their own PriorityClass, created before the Deployment",
  ({ prefix }) => {
    const account = props(T.serviceAccount, `${prefix}-service-account`);
    expect(account).toMatchObject({
      kind: "ServiceAccount",
      metadata: { name: "gomeet", namespace: "gomeet" },
      automountServiceAccountToken: false,
    });
    new ServiceAccount(account).validate();
    const priority = props(T.priorityClass, `${prefix}-priority`);
    expect(priority).toMatchObject({
      metadata: { name: "gomeet-realtime" },
      value: 100000,
      globalDefault: false,
      preemptionPolicy: "PreemptLowerPriority",
    });
    new PriorityClass(priority as ConstructorParameters<typeof PriorityClass>[0]).validate();
    expect(pod(prefix)).toMatchObject({
      serviceAccountName: "gomeet",
      automountServiceAccountToken: false,
      priorityClassName: "gomeet-realtime",
    });
    const deployment = one(plan, T.deployment, `${prefix}-app`);
    const needs = [
      one(plan, T.serviceAccount, `${prefix}-service-account`),
      one(plan, T.priorityClass, `${prefix}-priority`),
      ...appPolicies(prefix),
    ];
    for (const needed of needs) {
      expect([needed.name, dependsOn(deployment, needed)]).toEqual([needed.name, true]);
    }
  },
);

test.each(CELLS)(
  "$region: the pod spec satisfies restricted: non-root, seccomp RuntimeDefault, no escalation, every capability dropped",
  ({ prefix }) => {
    const pod = () => props(T.deployment, `${prefix}-app`).spec.template.spec;
    expect(pod().securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod().containers[0].securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod().hostNetwork).toBeUndefined();
    expect((pod().volumes as Array<Record<string, unknown>>).every((v) => v.hostPath === undefined)).toBe(true);
  },
);

test.each(CELLS)("$region NetworkPolicies: default deny, then exactly the service's needs; each a valid object", ({ prefix, ipRange }) => {
  const policy = (name: string) => props(T.networkPolicy, `${prefix}-netpol-${name}`);
  const names = appPolicies(prefix).map((r) => r.props.metadata as { name: string; namespace: string });
  expect(names.map((m) => m.name).sort()).toEqual([
    "allow-databases",
    "allow-dns",
    "allow-livekit",
    "allow-load-balancer",
    "allow-monitoring-scrape",
    "default-deny",
  ]);
  expect(names.every((m) => m.namespace === "gomeet")).toBe(true);
  for (const resource of appPolicies(prefix)) {
    new NetworkPolicy(resource.props as ConstructorParameters<typeof NetworkPolicy>[0]).validate();
  }
  expect(policy("default-deny").spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  const app = { matchLabels: { "app.kubernetes.io/name": "gomeet", "app.kubernetes.io/component": "realtime" } };
  expect(policy("allow-load-balancer").spec).toEqual({
    podSelector: app,
    policyTypes: ["Ingress"],
    ingress: [{ ports: [{ protocol: "TCP", port: 8080 }] }],
  });
  // The metrics port (/metrics, the detailed /readyz): the monitoring namespace only, and no other policy opens it.
  expect(policy("allow-monitoring-scrape").spec.ingress).toEqual([
    {
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
      ports: [{ protocol: "TCP", port: 9091 }],
    },
  ]);
  const openedTo9091 = appPolicies(prefix)
    .filter((r) => ((r.props.spec as any).ingress ?? []).some((rule: any) => (rule.ports ?? []).some((p: any) => p.port === 9091)))
    .map((r) => (r.props.metadata as { name: string }).name);
  expect(openedTo9091).toEqual(["allow-monitoring-scrape"]);
  expect(policy("allow-dns").spec.egress[0].to).toEqual([
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
    },
  ]);
  // The databases: the region's VPC range, DigitalOcean's PostgreSQL (25060) and pool / Valkey TLS (25061) ports.
  expect(policy("allow-databases").spec.egress).toEqual([
    {
      to: [{ ipBlock: { cidr: ipRange } }],
      ports: [
        { protocol: "TCP", port: 25060 },
        { protocol: "TCP", port: 25061 },
      ],
    },
  ]);
  // LiveKit (wss:// URLs without a port: 443) on public addresses only; no JWKS URL in prod, so no JWKS rule.
  const livekit = policy("allow-livekit").spec.egress[0];
  expect(livekit.ports).toEqual([{ protocol: "TCP", port: 443 }]);
  expect(livekit.to[0].ipBlock.cidr).toBe("0.0.0.0/0");
  expect(livekit.to[0].ipBlock.except).toEqual(expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]));
});

test.each(CELLS)(
  "$region: DigitalOcean's CA of each database reaches the app as files, and the app is told to verify with them",
  ({ prefix }) => {
    const pod = () => props(T.deployment, `${prefix}-app`).spec.template.spec;
    const configMap = props(T.configMap, `${prefix}-database-ca`);
    expect(configMap.data).toEqual({ "postgres-ca.crt": MOCK_DATABASE_CA, "valkey-ca.crt": MOCK_DATABASE_CA });
    new ConfigMap(configMap).validate();
    expect(pod().volumes).toContainEqual({ name: "database-ca", configMap: { name: "gomeet-database-ca" } });
    expect(pod().containers[0].volumeMounts).toContainEqual({ name: "database-ca", mountPath: "/etc/gomeet/database-ca", readOnly: true });
    expect(env(prefix)).toMatchObject({
      DATABASE_CA_FILE: "/etc/gomeet/database-ca/postgres-ca.crt",
      REDIS_CA_FILE: "/etc/gomeet/database-ca/valkey-ca.crt",
    });
  },
);

test.each(CELLS)("$region: browser origins and rate limits come from gomeet:app", ({ prefix }) => {
  expect(env(prefix)).toMatchObject({
    CORS_ALLOWED_ORIGINS: "https://app.gomeet.example",
    RATE_LIMIT_WINDOW_SECONDS: "60",
    RATE_LIMIT_ROOM_CREATES: "20",
    RATE_LIMIT_LIVEKIT_GRANTS: "120",
  });
  expect(env(prefix).AUTH_JWKS_URL).toBeUndefined();
});

describe("on the real prod plan, each object's policy fails once it is removed", () => {
  const violationsWithout = async (drop: (r: PlannedResource) => boolean, edit?: (r: PlannedResource) => void) => {
    const resources = structuredClone(plan.resources.filter((r) => !drop(r)));
    if (edit) resources.forEach(edit);
    return (await runPolicies(resources, {})).violations.filter((v) => v.level === "mandatory").map((v) => v.policy);
  };

  test("the unchanged plan passes every policy", async () => {
    expect(await violationsWithout(() => false)).toEqual([]);
  });

  type Removal = [string, (r: PlannedResource) => boolean, ((r: PlannedResource) => void) | undefined, string];
  /** Each object removed (or edited) in the regions of `prefixes`. */
  const removals = (prefixes: readonly string[]): Removal[] => {
    const named = (r: PlannedResource, suffix: string) => prefixes.some((p) => r.name === `${p}-${suffix}`);
    return [
      ["the default-deny NetworkPolicy", (r) => named(r, "netpol-default-deny"), undefined, "namespace-default-deny"],
      [
        "the load balancer allow",
        (r) => named(r, "netpol-allow-load-balancer") || named(r, "netpol-allow-monitoring-scrape"),
        undefined,
        "network-policy-allows",
      ],
      ["the DNS allow", (r) => named(r, "netpol-allow-dns"), undefined, "network-policy-allows"],
      ["the ServiceAccount", (r) => named(r, "service-account"), undefined, "workload-service-account"],
      ["the PriorityClass", (r) => named(r, "priority"), undefined, "workload-priority-class"],
      [
        "the Pod Security labels",
        () => false,
        (r) => {
          if (r.type === T.namespace && named(r, "ns")) delete (r.props.metadata as Record<string, unknown>).labels;
        },
        "namespace-pod-security",
      ],
      [
        "the pod's seccomp profile",
        () => false,
        (r) => {
          if (r.type === T.deployment && named(r, "app")) delete (r.props as any).spec.template.spec.securityContext.seccompProfile;
        },
        "deployment-restricted-profile",
      ],
    ];
  };

  test.each(removals(CELLS.map((c) => c.prefix)))("without %s in every region, its policy fails", async (_label, drop, edit, expected) => {
    expect(await violationsWithout(drop, edit)).toContain(expected);
  });

  // Per region: the policies must see a region's missing object even though the other region (another cluster,
  // same namespace name) has one.
  const primaryOnly = removals([PRIMARY.prefix]);
  const knownCrossCluster = new Set([
    "the default-deny NetworkPolicy",
    "the load balancer allow",
    "the DNS allow",
    "the ServiceAccount",
    "the PriorityClass",
  ]);
  test.each(primaryOnly.filter(([label]) => !knownCrossCluster.has(label)))(
    "without %s in the primary region only, its policy fails",
    async (_label, drop, edit, expected) => {
      expect(await violationsWithout(drop, edit)).toContain(expected);
    },
  );
  // KNOWN BUG (policies/rules/kubernetes-objects.ts sameNamespace, and the ServiceAccount / PriorityClass lookups): the
  // rules match a Deployment's NetworkPolicies, ServiceAccount and PriorityClass by namespace and name only, not by
  // cluster (provider), so the standby's objects satisfy the primary's Deployment. These fail today and are kept, as test.failing, until the policy pack compares clusters.
  test.failing.each(primaryOnly.filter(([label]) => knownCrossCluster.has(label)))(
    "without %s in the primary region only, its policy fails",
    async (_label, drop, edit, expected) => {
      expect(await violationsWithout(drop, edit)).toContain(expected);
    },
  );
});
