import { buildStack, editProps, messagesOf, namesOf, violationsOf, without } from "./fixtures";

const n = namesOf("prod");

describe("rule 6: disruption budget and autoscaler floor", () => {
  it("accepts the production PDB (minAvailable 2) and HPA (minReplicas 3)", async () => {
    expect(await violationsOf(buildStack(), "pod-disruption-budget")).toEqual([]);
    expect(await violationsOf(buildStack(), "hpa-min-replicas")).toEqual([]);
  });

  it("rejects a budget that keeps fewer than 2 pods, naming the budget and the Deployment", async () => {
    const violations = await violationsOf(buildStack({ pdbMinAvailable: 1 }), "pod-disruption-budget");
    expect(violations).toEqual([expect.objectContaining({ resource: n.pdb, level: "mandatory" })]);
    expect(violations[0].message).toContain(
      `PodDisruptionBudget "${n.pdb}" (selects Deployment "${n.deployment}"): spec.minAvailable is 1, keeping 1 available; required minAvailable at least 2.`,
    );
  });

  it("rejects a Deployment that no budget selects", async () => {
    for (const plan of [
      without(buildStack(), (r) => r.name === n.pdb),
      editProps(buildStack(), n.pdb, (props) => (props.spec.selector = { matchLabels: { "app.kubernetes.io/name": "other" } })),
      editProps(buildStack(), n.pdb, (props) => (props.metadata.namespace = "elsewhere")),
    ]) {
      const violations = await violationsOf(plan, "pod-disruption-budget");
      expect(violations).toEqual([expect.objectContaining({ resource: n.deployment })]);
      expect(violations[0].message).toContain("PodDisruptionBudget selecting its pods is none; required one with minAvailable at least 2");
    }
  });

  it("resolves percentages and maxUnavailable against the replica count", async () => {
    const budget = (spec: Record<string, unknown>) =>
      editProps(buildStack(), n.pdb, (props) => (props.spec = { ...spec, selector: props.spec.selector }));
    expect(await violationsOf(budget({ minAvailable: "50%" }), "pod-disruption-budget")).toEqual([]); // ceil(1.5) = 2 of 3
    expect(await violationsOf(budget({ maxUnavailable: 1 }), "pod-disruption-budget")).toEqual([]); // 3 - 1 = 2
    expect(messagesOf(await violationsOf(budget({ maxUnavailable: "50%" }), "pod-disruption-budget"))).toEqual([
      expect.stringContaining('spec.maxUnavailable is "50%" (of 3 replicas), keeping 1 available'),
    ]);
  });

  it("rejects a budget that would block every drain (minAvailable not below the replicas)", async () => {
    const violations = await violationsOf(buildStack({ pdbMinAvailable: 3 }), "pod-disruption-budget");
    expect(violations).toEqual([expect.objectContaining({ resource: n.pdb, level: "mandatory" })]);
    expect(violations[0].message).toContain(
      `PodDisruptionBudget "${n.pdb}" (selects Deployment "${n.deployment}"): spec.minAvailable is 3, keeping 3 of 3 replicas available; required fewer than the replicas (at most 2).`,
    );
    expect(await violationsOf(buildStack({ pdbMinAvailable: "100%" }), "pod-disruption-budget")).toHaveLength(1);
  });

  it("rejects an HPA that may scale the Deployment below 3", async () => {
    const violations = await violationsOf(buildStack({ hpaMinReplicas: 2 }), "hpa-min-replicas");
    expect(violations).toEqual([expect.objectContaining({ resource: n.hpa, level: "mandatory" })]);
    expect(violations[0].message).toContain(`HorizontalPodAutoscaler "${n.hpa}": spec.minReplicas is 2; required at least 3.`);
    const unset = editProps(buildStack(), n.hpa, (props) => delete props.spec.minReplicas);
    expect(messagesOf(await violationsOf(unset, "hpa-min-replicas"))).toEqual([
      expect.stringContaining("spec.minReplicas is unset (Kubernetes defaults to 1)"),
    ]);
  });

  it("leaves autoscalers of other kinds alone", async () => {
    const plan = editProps(buildStack({ hpaMinReplicas: 1 }), n.hpa, (props) => (props.spec.scaleTargetRef.kind = "StatefulSet"));
    expect(await violationsOf(plan, "hpa-min-replicas")).toEqual([]);
  });
});
