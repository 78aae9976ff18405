import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";

/** Arguments of {@link Project}. */
export interface ProjectArgs {
  prefix: string;
  /** DigitalOcean project environment. */
  environment: "Production" | "Staging" | "Development";
  /** DigitalOcean URNs (`do:kubernetes:…`, `do:dbaas:…`) of the resources to group. */
  resources: pulumi.Input<string>[];
}

/** Maps a stack name to DigitalOcean's project environment. */
export function projectEnvironment(stack: string): ProjectArgs["environment"] {
  if (/prod/.test(stack)) return "Production";
  if (/stag/.test(stack)) return "Staging";
  return "Development";
}

/** A DigitalOcean project grouping the stack's resources in the control panel. */
export class Project extends pulumi.ComponentResource {
  constructor(name: string, args: ProjectArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:Project", name, {}, opts);
    new digitalocean.Project(
      args.prefix,
      {
        name: args.prefix,
        description: "GoMeet realtime backend without a single point of failure",
        purpose: "Service or API",
        environment: args.environment,
        resources: args.resources,
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
