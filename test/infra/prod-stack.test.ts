/**
 * The prod stack under Pulumi's mock runtime: every HA and safety property the architecture promises,
 * asserted on what the real program registers (its alerting: prod-stack-alerting.test.ts).
 */
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Namespace, Secret, Service } from "kubernetes-models/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { secretChecksum, SECRET_CHECKSUM_ANNOTATION } from "../../infra/app-manifests";
import { metricsServerValues } from "../../infra/metrics-server";
import type { RenderedPlan } from "../../preview/render";
import { all, dependsOn, one, parentName, renderRepoStack } from "./plan-helpers";
import { CELLS, T } from "./prod-stack-helpers";

let plan: RenderedPlan;
beforeAll(async () => {
  plan = await renderRepoStack("prod");
});

const props = (type: string, name?: string) => one(plan, type, name).props as Record<string, any>;
const deploymentName = (prefix: string) => `${prefix}-app`;
const deployment = (prefix: string) => props(T.deployment, deploymentName(prefix));
const pod = (prefix: string) => deployment(prefix).spec.template.spec;
const container = (prefix: string) => pod(prefix).containers[0];

describe("network and Kubernetes", () => {
  test("each region's resources live in that region's VPC", () => {
    expect(
      all(plan, T.vpc)
        .map((v) => v.name)
        .sort(),
    ).toEqual(CELLS.map((c) => `${c.prefix}-vpc`).sort());
    // The databases of each region, the cross-region read-only node of the primary included (it lives in the standby's VPC).
    const databases: Record<string, string[]> = {
      "gomeet-prod": ["gomeet-prod-pg", "gomeet-prod-valkey", "gomeet-prod-pg-replica-1"],
      "gomeet-prod-tor1": ["gomeet-prod-tor1-valkey", "gomeet-prod-pg-tor1"],
    };
    expect([...all(plan, T.db), ...all(plan, T.replica)].map((d) => d.name).sort()).toEqual(Object.values(databases).flat().sort());
    for (const cell of CELLS) {
      const vpc = one(plan, T.vpc, `${cell.prefix}-vpc`);
      expect(parentName(plan, vpc)).toBe(`${cell.part}network`);
      expect(vpc.props).toMatchObject({ ipRange: cell.ipRange, region: cell.region }); // gomeet:network / gomeet:standby.network
      expect(props(T.doks, `${cell.prefix}-doks`).vpcUuid).toBe(`${cell.prefix}-vpc-id`);
      for (const name of databases[cell.prefix]!) {
        const db = [...all(plan, T.db), ...all(plan, T.replica)].find((d) => d.name === name)!;
        expect({ name, vpc: db.props.privateNetworkUuid, region: db.props.region }).toEqual({
          name,
          vpc: `${cell.prefix}-vpc-id`,
          region: cell.region,
        });
      }
    }
  });

  test("DOKS in each region: HA control plane set explicitly, autoscaling pool of at least 3, surge upgrades in a window", () => {
    expect(all(plan, T.doks)).toHaveLength(CELLS.length);
    for (const cell of CELLS) {
      const doks = props(T.doks, `${cell.prefix}-doks`);
      expect(doks.ha).toBe(true);
      expect(doks.nodePool).toMatchObject({ autoScale: true, minNodes: 3, maxNodes: 7, size: "s-4vcpu-8gb" });
      expect(doks).toMatchObject({ autoUpgrade: true, surgeUpgrade: true, registryIntegration: true, region: cell.region });
      expect(doks.maintenancePolicy).toEqual({ day: "sunday", startTime: "04:00" });
      expect(doks.version).toBe("1.33.1-do.0"); // resolved from getKubernetesVersions by the "1.33." prefix
    }
  });

  test("each region's Kubernetes provider is built from its own cluster's kubeconfig, which stays secret", () => {
    expect(all(plan, "pulumi:providers:kubernetes")).toHaveLength(CELLS.length);
    for (const cell of CELLS) {
      const provider = one(plan, "pulumi:providers:kubernetes", `${cell.prefix}-k8s`);
      expect(provider.secretPaths).toContain("kubeconfig");
      expect(dependsOn(provider, one(plan, T.doks, `${cell.prefix}-doks`))).toBe(true);
    }
  });
});

describe("PostgreSQL", () => {
  const pg = () => one(plan, T.db, "gomeet-prod-pg");

  test("a standby node, private, maintenance window, protected", () => {
    expect(pg().props).toMatchObject({ engine: "pg", version: "16", nodeCount: 2, size: "db-s-2vcpu-4gb" });
    expect(pg().props.maintenanceWindows).toEqual([{ day: "sunday", hour: "03:00:00" }]);
    expect(pg().protect).toBe(true);
  });

  test("a read replica, the app database and user, and a transaction pool", () => {
    const replica = one(plan, T.replica, "gomeet-prod-pg-replica-1");
    expect(dependsOn(replica, pg())).toBe(true);
    expect(replica.props).toMatchObject({ privateNetworkUuid: "gomeet-prod-vpc-id", region: "nyc3" });
    expect(props("digitalocean:index/databaseDb:DatabaseDb").name).toBe("gomeet");
    expect(props("digitalocean:index/databaseUser:DatabaseUser").name).toBe("gomeet");
    expect(props(T.pool)).toMatchObject({ mode: "transaction", size: 22, dbName: "gomeet", user: "gomeet" });
  });

  test("the standby region's read-only node replicates the primary cluster into the standby's VPC", () => {
    const node = one(plan, T.replica, "gomeet-prod-pg-tor1");
    expect(dependsOn(node, pg())).toBe(true);
    expect(node.props).toMatchObject({ clusterId: "gomeet-prod-pg-id", privateNetworkUuid: "gomeet-prod-tor1-vpc-id", region: "tor1" });
    expect(all(plan, T.replica)).toHaveLength(2);
  });

  test("fixed names that a replacement would collide with are deleted before they are replaced: pool, certificate, DNS records", () => {
    const dnsRecords = all(plan, "digitalocean:index/dnsRecord:DnsRecord");
    expect(dnsRecords).toHaveLength(CELLS.length); // one regional record per region (the public host is the GLB's)
    for (const r of [one(plan, T.pool), one(plan, "digitalocean:index/certificate:Certificate"), ...dnsRecords]) {
      expect({ name: r.name, deleteBeforeReplace: r.deleteBeforeReplace }).toEqual({ name: r.name, deleteBeforeReplace: true });
    }
  });

  test("the firewall's only rule admits the Kubernetes cluster", () => {
    const fw = one(plan, T.firewall, "gomeet-prod-pg-firewall");
    expect(fw.props.rules).toEqual([{ type: "k8s", value: "gomeet-prod-doks-id" }]);
    expect(dependsOn(fw, pg())).toBe(true);
  });

  test("the read replica has its own firewall, on the replica's uuid, admitting only the Kubernetes cluster", () => {
    const replica = one(plan, T.replica, "gomeet-prod-pg-replica-1");
    const fw = one(plan, T.firewall, "gomeet-prod-pg-replica-1-firewall");
    expect(fw.props).toEqual({ clusterId: "gomeet-prod-pg-replica-1-id", rules: [{ type: "k8s", value: "gomeet-prod-doks-id" }] });
    expect(fw.propertyDependencies?.clusterId).toEqual([replica.urn]);
  });

  test("the standby's read-only node has its own firewall, admitting only the standby region's cluster", () => {
    const node = one(plan, T.replica, "gomeet-prod-pg-tor1");
    const fw = one(plan, T.firewall, "gomeet-prod-pg-tor1-firewall");
    expect(fw.props).toEqual({ clusterId: "gomeet-prod-pg-tor1-id", rules: [{ type: "k8s", value: "gomeet-prod-tor1-doks-id" }] });
    expect(fw.propertyDependencies?.clusterId).toEqual([node.urn]);
  });
});

describe("Valkey", () => {
  test("one per region: two nodes, noeviction, private, protected, firewall admitting only the region's cluster", () => {
    for (const cell of CELLS) {
      const valkey = one(plan, T.db, `${cell.prefix}-valkey`);
      expect(valkey.props).toMatchObject({
        engine: "valkey",
        version: "8",
        nodeCount: 2,
        evictionPolicy: "noeviction",
        region: cell.region,
      });
      expect(valkey.protect).toBe(true);
      expect(props(T.firewall, `${cell.prefix}-valkey-firewall`).rules).toEqual([{ type: "k8s", value: `${cell.prefix}-doks-id` }]);
    }
  });
});

describe("app", () => {
  test("the Secret carries private, TLS URLs and generated auth, all as Pulumi secrets", () => {
    const secret = one(plan, T.secret, "gomeet-prod-secrets");
    expect(secret.secretPaths).toContain("stringData");
    const data = secret.props.stringData as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual([
      "AUTH_JWT_SECRET",
      "DATABASE_REPLICA_URLS",
      "DATABASE_URL",
      "LIVEKIT_DATACENTERS",
      "REDIS_URL",
    ]);
    expect(data.DATABASE_URL).toBe(
      "postgresql://gomeet:offline-password@private-gomeet-prod-pg-pool.db.offline-preview.invalid:25061/gomeet-pool?sslmode=verify-full",
    );
    expect(data.DATABASE_REPLICA_URLS).toMatch(
      /^postgresql:\/\/gomeet:.*@private-gomeet-prod-pg-replica-1\..*\/gomeet\?sslmode=verify-full$/,
    );
    expect(data.REDIS_URL).toMatch(/^rediss:\/\/default:.*@private-gomeet-prod-valkey\./);
    expect(JSON.parse(data.LIVEKIT_DATACENTERS!).map((d: { name: string }) => d.name)).toEqual(["nyc", "ams"]);
    expect(data.AUTH_JWT_SECRET).toBe("offline-random-password"); // from @pulumi/random, never from config
  });

  test("in each region the pod template carries its Secret's checksum in plain text, so a changed Secret rolls the pods", () => {
    for (const cell of CELLS) {
      const resource = one(plan, T.deployment, deploymentName(cell.prefix));
      const annotations = (resource.props as Record<string, any>).spec.template.metadata.annotations as Record<string, string>;
      const secretData = one(plan, T.secret, `${cell.prefix}-secrets`).props.stringData as Record<string, string>;
      expect(annotations[SECRET_CHECKSUM_ANNOTATION]).toBe(secretChecksum(secretData));
      expect(annotations[SECRET_CHECKSUM_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
      expect(resource.secretPaths.filter((p) => p.startsWith("spec"))).toEqual([]);
      // (the standby's DATABASE_REPLICA_URLS is empty: its reads go to its own read-only node, DATABASE_URL)
      for (const value of Object.values(secretData).filter((v) => v !== "")) expect(JSON.stringify(resource.props)).not.toContain(value);
    }
  });

  test("the app's Deployments: one per region, and the failover controller in the standby region", () => {
    expect(
      all(plan, T.deployment)
        .map((d) => d.name)
        .sort(),
    ).toEqual([...CELLS.map((c) => deploymentName(c.prefix)), "gomeet-prod-tor1-failover-controller"].sort());
  });

  test.each(CELLS)("Deployment in $region: 3 replicas, zero-unavailable rolling update, spread across nodes", ({ prefix }) => {
    const spec = deployment(prefix).spec;
    const pod = () => spec.template.spec;
    expect(spec.replicas).toBe(3);
    expect(spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(spec.minReadySeconds).toBeGreaterThan(0);
    expect(pod().topologySpreadConstraints[0]).toMatchObject({
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "DoNotSchedule",
      maxSkew: 1,
    });
  });

  test.each(CELLS)("Deployment in $region: probes, resources, hardening, instance id, drain", ({ prefix }) => {
    const c = container(prefix);
    const pod = () => deployment(prefix).spec.template.spec;
    expect(c.readinessProbe.httpGet.path).toBe("/readyz");
    expect(c.livenessProbe.httpGet.path).toBe("/healthz");
    expect(c.startupProbe.httpGet.path).toBe("/healthz");
    expect(c.resources).toEqual({ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } });
    expect(pod().securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.env).toContainEqual({ name: "INSTANCE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
    // Users' tokens are checked for the issuer and audience of Pulumi.prod.yaml (gomeet:app.jwtIssuer / jwtAudience).
    expect(c.env).toContainEqual({ name: "AUTH_JWT_ISSUER", value: "https://auth.gomeet.example" });
    expect(c.env).toContainEqual({ name: "AUTH_JWT_AUDIENCE", value: "https://meet.gomeet.example" });
    expect(c.env).toContainEqual({
      name: "AUTH_JWT_SECRET",
      valueFrom: { secretKeyRef: { name: "gomeet-secrets", key: "AUTH_JWT_SECRET" } },
    });
    expect(c.lifecycle.preStop.exec.command).toEqual(["sleep", "10"]);
    // preStop (10 s) + the app's drain (30 s) must fit in the grace period, or sockets are cut instead of drained.
    expect(pod().terminationGracePeriodSeconds).toBeGreaterThanOrEqual(10 + 30);
    expect(c.env).toContainEqual({ name: "SHUTDOWN_DRAIN_SECONDS", value: "30" });
    // Batching windows off unless the stack sets them (latency first).
    expect(c.env).toContainEqual({ name: "WS_PUBLISH_BATCH_MS", value: "0" });
    expect(c.env).toContainEqual({ name: "WS_DELIVERY_BATCH_MS", value: "0" });
    expect(c.image).toBe("registry.digitalocean.com/gomeet/app:0.1.0");
  });

  test.each(CELLS)("in $region the replica count is the HPA's once the Deployment exists: ignoreChanges on spec.replicas", ({ prefix }) => {
    expect(one(plan, T.deployment, deploymentName(prefix)).ignoreChanges).toEqual(["spec.replicas"]);
    expect(deployment(prefix).spec.replicas).toBe(3); // the count it is created with: the HPA's minReplicas
  });

  test.each(CELLS)("in $region the PodDisruptionBudget keeps 2 up; the autoscaler never goes below the 3 replicas", ({ prefix }) => {
    const selector = deployment(prefix).spec.selector.matchLabels;
    expect(all(plan, "kubernetes:policy/v1:PodDisruptionBudget")).toHaveLength(CELLS.length);
    expect(all(plan, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")).toHaveLength(CELLS.length);
    expect(props("kubernetes:policy/v1:PodDisruptionBudget", `${prefix}-pdb`).spec).toEqual({
      minAvailable: 2,
      selector: { matchLabels: selector },
    });
    expect(props("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", `${prefix}-hpa`).spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 6, // one pod per node, and a node left for a rollout's surge pod: kubernetes.maxNodes - 1
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "gomeet" },
    });
  });

  test.each(CELLS)(
    "the load balancer in $region is REGIONAL, health-checks /readyz, keeps WebSockets open, terminates TLS",
    ({ prefix }) => {
      const lb = "service.beta.kubernetes.io/do-loadbalancer";
      const service = `${prefix}-service`;
      const annotations = () => props(T.service, service).metadata.annotations as Record<string, string>;
      const pod = () => deployment(prefix).spec.template.spec;
      expect(props(T.service, service).spec.type).toBe("LoadBalancer");
      expect(annotations()).toMatchObject({
        [`${lb}-type`]: "REGIONAL",
        [`${lb}-name`]: `${prefix}-lb`,
        [`${lb}-override-health-check`]: "true",
        [`${lb}-healthcheck-path`]: "/readyz",
        [`${lb}-healthcheck-protocol`]: "http",
        [`${lb}-healthcheck-unhealthy-threshold`]: "3",
        [`${lb}-http-idle-timeout-seconds`]: "600",
        [`${lb}-size-unit`]: "2",
        [`${lb}-certificate-name`]: "gomeet-prod-cert",
        [`${lb}-tls-ports`]: "443",
        [`${lb}-redirect-http-to-https`]: "true",
        // else DigitalOcean writes the certificate domain's DNS records itself, the zone apex included
        [`${lb}-disable-lets-encrypt-dns-records`]: "true",
      });
      for (const value of Object.values(annotations())) expect(typeof value).toBe("string");
      // Local: a node's /readyz check reaches that node's pod, which is the only app pod there (required anti-affinity).
      expect(props(T.service, service).spec.externalTrafficPolicy).toBe("Local");
      expect(pod().affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
        { labelSelector: { matchLabels: deployment(prefix).spec.selector.matchLabels }, topologyKey: "kubernetes.io/hostname" },
      ]);
      expect(Number(annotations()[`${lb}-http-idle-timeout-seconds`])).toBeGreaterThanOrEqual(300);
    },
  );

  test.each(CELLS)("rendered Kubernetes objects in $region are valid against the Kubernetes schemas", ({ prefix }) => {
    const models: [string, string, new (data: any) => { validate(): void }][] = [
      ["kubernetes:core/v1:Namespace", `${prefix}-ns`, Namespace],
      [T.secret, `${prefix}-secrets`, Secret],
      [T.deployment, deploymentName(prefix), Deployment],
      [T.service, `${prefix}-service`, Service],
      ["kubernetes:policy/v1:PodDisruptionBudget", `${prefix}-pdb`, PodDisruptionBudget],
      ["kubernetes:autoscaling/v2:HorizontalPodAutoscaler", `${prefix}-hpa`, HorizontalPodAutoscaler],
    ];
    for (const [type, name, Model] of models) expect(() => new Model(props(type, name)).validate()).not.toThrow();
  });
});

describe("metrics-server (the autoscaler's metrics)", () => {
  const release = () => one(plan, "kubernetes:helm.sh/v3:Release", "gomeet-prod-metrics-server");

  test("installed from the official chart at a pinned version, into kube-system, rolled back if it fails", () => {
    expect(parentName(plan, release())).toBe("metrics-server");
    expect(release().props).toMatchObject({
      name: "metrics-server",
      chart: "metrics-server",
      version: "3.13.1",
      repositoryOpts: { repo: "https://kubernetes-sigs.github.io/metrics-server/" },
      namespace: "kube-system",
      atomic: true,
    });
  });

  test("two replicas on different nodes with a disruption budget, kubelets scraped on their VPC address", () => {
    const values = release().props.values as Record<string, any>;
    expect(values.replicas).toBe(2);
    expect(values.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    expect(values.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]).toEqual({
      labelSelector: { matchLabels: { "app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": "metrics-server" } },
      topologyKey: "kubernetes.io/hostname",
    });
    expect(values.defaultArgs).toContain("--kubelet-preferred-address-types=InternalIP");
    expect(values.defaultArgs).not.toContain("--kubelet-insecure-tls");
  });

  test("one replica and no disruption budget on a one-node pool (a second could never be scheduled)", () => {
    expect(metricsServerValues(1)).toMatchObject({ replicas: 1, podDisruptionBudget: { enabled: false } });
    expect(metricsServerValues(3)).toMatchObject({ replicas: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } });
    expect(() => metricsServerValues(0)).toThrow("metrics-server: minNodes must be a whole number ≥ 1, got 0");
  });

  test("in each region the autoscaler is created after that region's metrics-server", () => {
    for (const { prefix, part } of CELLS) {
      const regionRelease = one(plan, "kubernetes:helm.sh/v3:Release", `${prefix}-metrics-server`);
      expect(parentName(plan, regionRelease)).toBe(`${part}metrics-server`);
      expect(dependsOn(one(plan, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", `${prefix}-hpa`), regionRelease)).toBe(true);
    }
  });
});

describe("project, domain and outputs", () => {
  test("a DigitalOcean project groups each region's cluster and databases", () => {
    const project = props("digitalocean:index/project:Project");
    expect(project.environment).toBe("Production");
    expect([...project.resources].sort()).toEqual(
      [
        "do:kubernetes:gomeet-prod-doks-id",
        "do:dbaas:gomeet-prod-pg-id",
        "do:dbaas:gomeet-prod-valkey-id",
        "do:kubernetes:gomeet-prod-tor1-doks-id",
        "do:dbaas:gomeet-prod-tor1-valkey-id",
      ].sort(),
    );
  });

  test("the domain gets a Let's Encrypt certificate for the public host and each region's host, and an A record per region", () => {
    expect(props("digitalocean:index/certificate:Certificate")).toMatchObject({
      type: "lets_encrypt",
      domains: ["meet.gomeet.example", ...CELLS.map((c) => `${c.region}.meet.gomeet.example`)],
    });
    for (const { prefix, region } of CELLS) {
      expect(props("digitalocean:index/dnsRecord:DnsRecord", `${prefix}-dns`)).toMatchObject({
        domain: "gomeet.example",
        name: `${region}.meet`,
        type: "A",
        value: "203.0.113.10", // the mock's load balancer IP
      });
    }
  });

  test("the public host belongs to the GLOBAL load balancer, which targets both regions, the primary first", () => {
    expect(props("digitalocean:index/loadBalancer:LoadBalancer", "gomeet-prod-glb")).toMatchObject({
      type: "GLOBAL",
      domains: [{ name: "meet.gomeet.example", isManaged: true, certificateName: "gomeet-prod-cert" }],
      targetLoadBalancerIds: CELLS.map((c) => `${c.prefix}-lb-id`),
      glbSettings: { regionPriorities: { nyc3: 1, tor1: 2 }, failoverThreshold: 50 },
    });
  });

  test("outputs: public endpoint, secret kubeconfigs, database and Valkey hosts", () => {
    expect(plan.outputs.endpoint).toEqual({ value: "https://meet.gomeet.example", secret: false });
    expect(plan.outputs.kubeconfig).toEqual({ secret: true });
    expect(plan.outputs.standbyKubeconfig).toEqual({ secret: true });
    expect(plan.outputs.postgresHost!.value).toMatch(/^private-gomeet-prod-pg\./);
    expect(plan.outputs.valkeyHost!.value).toMatch(/^private-gomeet-prod-valkey\./);
  });

  test("every resource has a component parent", () => {
    for (const r of plan.resources.filter((r) => r.custom)) expect(parentName(plan, r)).toBeDefined();
  });
});
