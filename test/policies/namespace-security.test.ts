import { buildStack, editProps, editResource, messagesOf, namesOf, violationsOf, without, TYPES, TWO_REGIONS } from "./fixtures";

const n = namesOf("prod");
const podSpec = (props: Record<string, any>) => props.spec.template.spec;
const container = (props: Record<string, any>) => podSpec(props).containers[0];
const editApp = (edit: (props: Record<string, any>) => void) => editProps(buildStack(), n.deployment, edit);
const netpol = (name: string) => `gomeet-prod-netpol-${name}`;
const POLICIES = [
  "namespace-default-deny",
  "network-policy-allows",
  "namespace-pod-security",
  "workload-service-account",
  "workload-priority-class",
  "deployment-restricted-profile",
];

describe("rule 12: the app's namespace is locked down", () => {
  it.each(POLICIES)("accepts the production plan: %s", async (policy) => {
    expect(await violationsOf(buildStack(), policy)).toEqual([]);
  });

  it.each(POLICIES)("every one is mandatory: %s", async (policy) => {
    const broken = without(buildStack(), (r) => [TYPES.networkPolicy, TYPES.serviceAccount, TYPES.priorityClass].includes(r.type as never));
    const stripped = editProps(
      editProps(broken, "gomeet-prod-ns", (props) => delete props.metadata.labels),
      n.deployment,
      (props) => {
        delete podSpec(props).serviceAccountName;
        delete podSpec(props).priorityClassName;
        delete podSpec(props).securityContext.seccompProfile;
      },
    );
    const violations = await violationsOf(stripped, policy);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.every((v) => v.level === "mandatory")).toBe(true);
  });

  describe("namespace-default-deny", () => {
    it("fails a plan without the default-deny NetworkPolicy", async () => {
      const plan = without(buildStack(), (r) => r.name === netpol("default-deny"));
      const violations = await violationsOf(plan, "namespace-default-deny");
      expect(violations).toEqual([expect.objectContaining({ resource: n.deployment, level: "mandatory" })]);
      expect(violations[0].message).toContain(
        `Deployment "${n.deployment}": NetworkPolicy in namespace "gomeet" with podSelector {} and policyTypes [Ingress, Egress] ` +
          "and no rules is none",
      );
    });

    it("does not count a deny of ingress only, of some pods, with an allow rule, or in another namespace", async () => {
      const edits: Array<(props: Record<string, any>) => void> = [
        (props) => (props.spec.policyTypes = ["Ingress"]),
        (props) => (props.spec.podSelector = { matchLabels: { app: "x" } }),
        (props) => (props.spec.egress = [{ ports: [{ port: 443 }] }]),
        (props) => (props.metadata.namespace = "other"),
      ];
      for (const edit of edits) {
        expect(await violationsOf(editProps(buildStack(), netpol("default-deny"), edit), "namespace-default-deny")).toHaveLength(1);
      }
    });
  });

  describe("network-policy-allows", () => {
    it("fails when nothing admits the app port (the load balancer would reach no pod)", async () => {
      const plan = without(buildStack(), (r) => r.name === netpol("allow-load-balancer") || r.name === netpol("allow-monitoring-scrape"));
      expect(messagesOf(await violationsOf(plan, "network-policy-allows"))).toEqual([
        expect.stringContaining(
          'NetworkPolicy ingress selecting its pods is no rule admitting a container port; required an ingress rule on "http"',
        ),
      ]);
    });

    it("accepts the port by name, and fails an allow on another port", async () => {
      const byName = editProps(buildStack(), netpol("allow-load-balancer"), (props) => (props.spec.ingress[0].ports = [{ port: "http" }]));
      const withoutScrape = (plan: ReturnType<typeof buildStack>) => without(plan, (r) => r.name === netpol("allow-monitoring-scrape"));
      expect(await violationsOf(withoutScrape(byName), "network-policy-allows")).toEqual([]);
      const wrongPort = editProps(
        buildStack(),
        netpol("allow-load-balancer"),
        (props) => (props.spec.ingress[0].ports = [{ protocol: "TCP", port: 9090 }]),
      );
      expect(await violationsOf(withoutScrape(wrongPort), "network-policy-allows")).toHaveLength(1);
    });

    it("fails when DNS is not allowed", async () => {
      const plan = without(buildStack(), (r) => r.name === netpol("allow-dns"));
      expect(messagesOf(await violationsOf(plan, "network-policy-allows"))).toEqual([expect.stringContaining("no rule admitting UDP 53")]);
    });
  });

  describe("namespace-pod-security", () => {
    it("fails a namespace without the labels, naming each mode", async () => {
      const plan = editProps(buildStack(), "gomeet-prod-ns", (props) => delete props.metadata.labels);
      const messages = messagesOf(await violationsOf(plan, "namespace-pod-security"));
      expect(messages).toHaveLength(3);
      expect(messages[0]).toContain(
        'Namespace "gomeet-prod-ns": metadata.labels["pod-security.kubernetes.io/enforce"] / ' +
          '["pod-security.kubernetes.io/enforce-version"] is unset / unset; required "restricted" / a pinned version',
      );
      expect(messages[1]).toContain("pod-security.kubernetes.io/audit");
      expect(messages[2]).toContain("pod-security.kubernetes.io/warn");
    });

    it("fails baseline, and an unpinned (latest) version", async () => {
      const baseline = editProps(
        buildStack(),
        "gomeet-prod-ns",
        (props) => (props.metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline"),
      );
      expect(messagesOf(await violationsOf(baseline, "namespace-pod-security"))).toEqual([
        expect.stringContaining('is "baseline" / "v1.33"'),
      ]);
      const latest = editProps(
        buildStack(),
        "gomeet-prod-ns",
        (props) => (props.metadata.labels["pod-security.kubernetes.io/warn-version"] = "latest"),
      );
      expect(messagesOf(await violationsOf(latest, "namespace-pod-security"))).toEqual([
        expect.stringContaining('is "restricted" / "latest"'),
      ]);
    });

    it("fails a Deployment whose namespace the stack does not manage", async () => {
      const plan = without(buildStack(), (r) => r.type === TYPES.namespace && r.name === "gomeet-prod-ns");
      expect(messagesOf(await violationsOf(plan, "namespace-pod-security"))).toEqual([
        expect.stringContaining('Namespace resource for namespace "gomeet" is none in the stack'),
      ]);
    });
  });

  describe("workload-service-account", () => {
    it("fails the default ServiceAccount", async () => {
      for (const edit of [
        (p: Record<string, any>) => delete podSpec(p).serviceAccountName,
        (p: Record<string, any>) => (podSpec(p).serviceAccountName = "default"),
      ]) {
        expect(messagesOf(await violationsOf(editApp(edit), "workload-service-account"))).toEqual([
          expect.stringContaining("spec.template.spec.serviceAccountName is"),
        ]);
      }
    });

    it("fails an account that mounts a token, or one missing from the stack", async () => {
      const mounts = editProps(buildStack(), "gomeet-prod-service-account", (props) => delete props.automountServiceAccountToken);
      expect(messagesOf(await violationsOf(mounts, "workload-service-account"))).toEqual([
        expect.stringContaining('ServiceAccount "gomeet-prod-service-account": automountServiceAccountToken is unset; required false.'),
      ]);
      const missing = without(buildStack(), (r) => r.type === TYPES.serviceAccount);
      expect(messagesOf(await violationsOf(missing, "workload-service-account"))).toEqual([
        expect.stringContaining('ServiceAccount "gomeet" in namespace "gomeet" is none in the stack'),
      ]);
      const podMounts = editApp((props) => (podSpec(props).automountServiceAccountToken = true));
      expect(messagesOf(await violationsOf(podMounts, "workload-service-account"))).toEqual([
        expect.stringContaining("spec.template.spec.automountServiceAccountToken is true"),
      ]);
    });
  });

  describe("workload-priority-class", () => {
    it("fails a pod spec without a class, or with one the stack does not define", async () => {
      const unset = editApp((props) => delete podSpec(props).priorityClassName);
      expect(messagesOf(await violationsOf(unset, "workload-priority-class"))).toEqual([
        expect.stringContaining("spec.template.spec.priorityClassName is unset (priority 0, like any batch pod)"),
      ]);
      const missing = without(buildStack(), (r) => r.type === TYPES.priorityClass);
      expect(messagesOf(await violationsOf(missing, "workload-priority-class"))).toEqual([
        expect.stringContaining('priorityClassName is "gomeet-realtime", which the stack does not define'),
      ]);
    });
  });

  describe("deployment-restricted-profile", () => {
    it("fails each departure from the restricted standard", async () => {
      const cases: Array<[(props: Record<string, any>) => void, string]> = [
        [
          (p) => delete podSpec(p).securityContext.seccompProfile,
          'seccompProfile.type (or the pod\'s) is unset; required "RuntimeDefault"',
        ],
        [(p) => (podSpec(p).securityContext.seccompProfile.type = "Unconfined"), 'is "Unconfined"'],
        [(p) => delete container(p).securityContext.allowPrivilegeEscalation, "allowPrivilegeEscalation is unset; required false"],
        [
          (p) => (container(p).securityContext.capabilities = { drop: ["NET_RAW"] }),
          'capabilities.drop is ["NET_RAW"]; required to include "ALL"',
        ],
        [(p) => (container(p).securityContext.capabilities.add = ["SYS_ADMIN"]), 'capabilities.add is ["SYS_ADMIN"]'],
        [(p) => (podSpec(p).hostNetwork = true), "spec.template.spec.hostNetwork is true"],
        [(p) => (podSpec(p).volumes = [{ name: "h", hostPath: { path: "/" } }]), "spec.template.spec.volumes[0].hostPath"],
      ];
      for (const [edit, expected] of cases) {
        expect(messagesOf(await violationsOf(editApp(edit), "deployment-restricted-profile"))).toEqual([expect.stringContaining(expected)]);
      }
    });

    it("accepts NET_BIND_SERVICE added back, and a container-level seccomp profile", async () => {
      const plan = editApp((p) => {
        container(p).securityContext.capabilities.add = ["NET_BIND_SERVICE"];
        delete podSpec(p).securityContext.seccompProfile;
        container(p).securityContext.seccompProfile = { type: "RuntimeDefault" };
      });
      expect(await violationsOf(plan, "deployment-restricted-profile")).toEqual([]);
    });
  });

  it("reports nothing else on the production plan (the new objects break no other policy)", async () => {
    expect(await violationsOf(buildStack(TWO_REGIONS))).toEqual([]);
  });
});

describe("a plan that keeps the objects but points elsewhere", () => {
  it("a ServiceAccount of the same name in another namespace does not count", async () => {
    const plan = editResource(
      buildStack(),
      "gomeet-prod-service-account",
      (sa) => (sa.props.metadata = { name: "gomeet", namespace: "other" }),
    );
    expect(await violationsOf(plan, "workload-service-account")).toHaveLength(1);
  });
});
