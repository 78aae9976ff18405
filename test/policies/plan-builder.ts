/** The builder behind the policy-test stack (fixtures.ts): planned resources as the engine records them. */
import type { PlannedResource } from "../../preview/plan";

/** Options of one planned resource. */
export interface ResourceOptions {
  parent?: PlannedResource;
  dependsOn?: PlannedResource[];
  protect?: boolean;
  secretPaths?: string[];
  additionalSecretOutputs?: string[];
  custom?: boolean;
}

/** Collects planned resources with URNs shaped like the engine's. */
export class PlanBuilder {
  readonly resources: PlannedResource[] = [];

  constructor(private readonly stack: string) {}

  add(type: string, name: string, props: Record<string, unknown>, options: ResourceOptions = {}): PlannedResource {
    const qualified = options.parent ? `${options.parent.type}$${type}` : type;
    const resource: PlannedResource = {
      type,
      name,
      urn: `urn:pulumi:${this.stack}::gomeet::${qualified}::${name}`,
      props,
      secretPaths: options.secretPaths ?? [],
      protect: options.protect ?? false,
      additionalSecretOutputs: options.additionalSecretOutputs ?? [],
      parent: options.parent?.urn,
      dependencies: (options.dependsOn ?? []).map((d) => d.urn),
      custom: options.custom ?? true,
    };
    this.resources.push(resource);
    return resource;
  }

  component(name: string, kind: string): PlannedResource {
    return this.add(`gomeet:index:${kind}`, name, {}, { custom: false });
  }
}
