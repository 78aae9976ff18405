import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { networkPolicies, PRIORITY_CLASS, PRIORITY_VALUE, SERVICE_ACCOUNT, type NetworkPolicySettings } from "./security-manifests";

/** Arguments of {@link SecurityBaseline}. */
export interface SecurityBaselineArgs {
  /** Name prefix of every resource of the stack, e.g. `gomeet-prod`. */
  prefix: string;
  /** Provider of the cluster. */
  provider: k8s.Provider;
  /** The app's namespace (which carries the Pod Security labels itself). */
  namespace: pulumi.Input<string>;
  /** What the NetworkPolicies allow. */
  network: NetworkPolicySettings;
}

/**
 * What the app's namespace needs besides the app: a ServiceAccount of its own that mounts no API token, a
 * PriorityClass, and NetworkPolicies (default deny, then the service's allows; DOKS's Cilium enforces them).
 * The app's pods name the ServiceAccount and the PriorityClass, so the Deployment depends on this component.
 */
export class SecurityBaseline extends pulumi.ComponentResource {
  readonly serviceAccountName: pulumi.Output<string>;
  readonly priorityClassName: pulumi.Output<string>;

  constructor(name: string, args: SecurityBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:SecurityBaseline", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${args.prefix}-service-account`,
      { metadata: { name: SERVICE_ACCOUNT, namespace: args.namespace }, automountServiceAccountToken: false },
      child,
    );
    const priorityClass = new k8s.scheduling.v1.PriorityClass(
      `${args.prefix}-priority`,
      {
        metadata: { name: PRIORITY_CLASS },
        value: PRIORITY_VALUE,
        globalDefault: false,
        preemptionPolicy: "PreemptLowerPriority",
        description: "GoMeet realtime pods: scheduled before, and evicted after, pods without a class.",
      },
      child,
    );
    for (const policy of networkPolicies(args.network)) {
      new k8s.networking.v1.NetworkPolicy(
        `${args.prefix}-netpol-${policy.name}`,
        {
          metadata: { name: policy.name, namespace: args.namespace, annotations: { "gomeet.dev/purpose": policy.purpose } },
          spec: policy.spec,
        },
        child,
      );
    }
    this.serviceAccountName = serviceAccount.metadata.name;
    this.priorityClassName = priorityClass.metadata.name;
    this.registerOutputs({ serviceAccountName: this.serviceAccountName, priorityClassName: this.priorityClassName });
  }
}
