import { imageReference } from "../../policies/rules/workloads";
import { buildStack, editProps, messagesOf, namesOf, violationsOf } from "./fixtures";

const n = namesOf("prod");
const container = (props: Record<string, any>) => props.spec.template.spec.containers[0];
const editApp = (edit: (props: Record<string, any>) => void) => editProps(buildStack(), n.deployment, edit);

describe("rule 5: Deployments", () => {
  it.each([
    "deployment-replicas",
    "deployment-rolling-update",
    "deployment-probes",
    "deployment-resources",
    "deployment-spread",
    "deployment-pod-security",
    "deployment-image-tag",
  ])("accepts the production Deployment: %s", async (policy) => {
    expect(await violationsOf(buildStack(), policy)).toEqual([]);
  });

  describe("replicas", () => {
    it("rejects fewer than 3 replicas", async () => {
      const violations = await violationsOf(buildStack({ appReplicas: 1 }), "deployment-replicas");
      expect(violations).toEqual([expect.objectContaining({ resource: n.deployment, level: "mandatory" })]);
      expect(violations[0].message).toContain(`Deployment "${n.deployment}": spec.replicas is 1; required at least 3.`);
    });

    it("treats unset replicas as Kubernetes' default of 1", async () => {
      const plan = editApp((props) => delete props.spec.replicas);
      expect(messagesOf(await violationsOf(plan, "deployment-replicas"))).toEqual([
        expect.stringContaining("spec.replicas is unset (Kubernetes defaults to 1)"),
      ]);
    });
  });

  describe("rolling update", () => {
    it("rejects the Recreate strategy", async () => {
      const plan = editApp((props) => (props.spec.strategy = { type: "Recreate" }));
      expect(messagesOf(await violationsOf(plan, "deployment-rolling-update"))).toEqual([
        expect.stringContaining('spec.strategy.type is "Recreate"; required "RollingUpdate"'),
      ]);
    });

    it("rejects maxUnavailable above 0, and an unset one (25% by default)", async () => {
      const one = editApp((props) => (props.spec.strategy.rollingUpdate.maxUnavailable = 1));
      expect(messagesOf(await violationsOf(one, "deployment-rolling-update"))).toEqual([
        expect.stringContaining("spec.strategy.rollingUpdate.maxUnavailable is 1; required 0"),
      ]);
      const unset = editApp((props) => delete props.spec.strategy);
      expect(messagesOf(await violationsOf(unset, "deployment-rolling-update"))).toEqual([
        expect.stringContaining('is unset (Kubernetes defaults to "25%")'),
      ]);
    });

    it('accepts "0%"', async () => {
      const plan = editApp((props) => (props.spec.strategy.rollingUpdate.maxUnavailable = "0%"));
      expect(await violationsOf(plan, "deployment-rolling-update")).toEqual([]);
    });
  });

  it("rejects a container without readiness or liveness probe", async () => {
    const plan = editApp((props) => {
      delete container(props).readinessProbe;
      delete container(props).livenessProbe;
    });
    const messages = messagesOf(await violationsOf(plan, "deployment-probes"));
    expect(messages).toEqual([
      expect.stringContaining(
        `Deployment "${n.deployment}" container "app": spec.template.spec.containers[0].readinessProbe is unset; required a probe`,
      ),
      expect.stringContaining("spec.template.spec.containers[0].livenessProbe is unset; required a probe"),
    ]);
  });

  it("rejects a container without requests or memory limit", async () => {
    const plan = editApp((props) => (container(props).resources = { limits: { cpu: "1" } }));
    const messages = messagesOf(await violationsOf(plan, "deployment-resources"));
    expect(messages).toEqual([
      expect.stringContaining(
        "spec.template.spec.containers[0].resources.requests is unset; required requests for cpu and memory (missing: cpu, memory)",
      ),
      expect.stringContaining('resources.limits is {"cpu":"1"}; required limits for memory (missing: memory)'),
    ]);
  });

  describe("spread across nodes", () => {
    it("rejects a Deployment with only a soft (ScheduleAnyway) hostname spread", async () => {
      const plan = editApp((props) => (props.spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable = "ScheduleAnyway"));
      const violations = await violationsOf(plan, "deployment-spread");
      expect(violations).toEqual([expect.objectContaining({ resource: n.deployment })]);
      expect(violations[0].message).toContain(
        "required a DoNotSchedule topology spread constraint (or a required pod anti-affinity) on kubernetes.io/hostname",
      );
    });

    it("rejects a hostname constraint whose selector does not select the pods", async () => {
      const plan = editApp(
        (props) => (props.spec.template.spec.topologySpreadConstraints[0].labelSelector = { matchLabels: { app: "other" } }),
      );
      expect(await violationsOf(plan, "deployment-spread")).toHaveLength(1);
    });

    it("accepts a required pod anti-affinity on the hostname instead", async () => {
      const plan = editApp((props) => {
        const spec = props.spec.template.spec;
        delete spec.topologySpreadConstraints;
        spec.affinity = {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { "app.kubernetes.io/name": "gomeet" } } },
            ],
          },
        };
      });
      expect(await violationsOf(plan, "deployment-spread")).toEqual([]);
    });
  });

  describe("pod security", () => {
    it("rejects a container that may run as root", async () => {
      const plan = editApp((props) => delete props.spec.template.spec.securityContext.runAsNonRoot);
      expect(messagesOf(await violationsOf(plan, "deployment-pod-security"))).toEqual([
        expect.stringContaining(
          "spec.template.spec.containers[0].securityContext.runAsNonRoot (or spec.template.spec.securityContext.runAsNonRoot) is unset; required true",
        ),
      ]);
    });

    it("lets a container override the pod's runAsNonRoot", async () => {
      const plan = editApp((props) => (container(props).securityContext.runAsNonRoot = false));
      expect(messagesOf(await violationsOf(plan, "deployment-pod-security"))).toEqual([expect.stringContaining("is false; required true")]);
    });

    it("rejects a privileged container", async () => {
      const plan = editApp((props) => (container(props).securityContext.privileged = true));
      expect(messagesOf(await violationsOf(plan, "deployment-pod-security"))).toEqual([
        expect.stringContaining("spec.template.spec.containers[0].securityContext.privileged is true; required false or unset"),
      ]);
    });
  });

  describe("image tag", () => {
    it.each([
      ["registry.digitalocean.com/gomeet/app:latest", "tag latest"],
      ["registry.digitalocean.com/gomeet/app", "no tag: resolves to latest"],
      ["localhost:5000/app", "no tag: resolves to latest"],
    ])("rejects %s", async (image, why) => {
      const violations = await violationsOf(buildStack({ image }), "deployment-image-tag");
      expect(violations).toEqual([expect.objectContaining({ resource: n.deployment })]);
      expect(violations[0].message).toContain(`.image is ${JSON.stringify(image)} (${why})`);
    });

    it.each([
      "registry.digitalocean.com/gomeet/app:3f2c1d0",
      "localhost:5000/app:1.2.3",
      `registry.digitalocean.com/gomeet/app@sha256:${"a".repeat(64)}`,
    ])("accepts %s", async (image) => {
      expect(await violationsOf(buildStack({ image }), "deployment-image-tag")).toEqual([]);
    });

    it("parses registry ports, tags and digests", () => {
      expect(imageReference("localhost:5000/app")).toEqual({ tag: undefined, digest: undefined });
      expect(imageReference("localhost:5000/app:v1@sha256:abc")).toEqual({ tag: "v1", digest: "sha256:abc" });
    });
  });
});
