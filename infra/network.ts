import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";

/** Arguments of {@link Network}. */
export interface NetworkArgs {
  /** Name prefix of every resource of the stack, e.g. `gomeet-prod`. */
  prefix: string;
  /** DigitalOcean region slug, e.g. `nyc3`. */
  region: string;
  /** Private address range of the VPC (RFC 1918). */
  ipRange: string;
}

/** The private network every other resource lives in: nothing talks to the databases over the internet. */
export class Network extends pulumi.ComponentResource {
  /** The VPC's id, for `vpcUuid` / `privateNetworkUuid`. */
  readonly vpcId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:Network", name, {}, opts);
    const vpc = new digitalocean.Vpc(
      `${args.prefix}-vpc`,
      { name: `${args.prefix}-vpc`, region: args.region, ipRange: args.ipRange, description: "GoMeet private network" },
      { parent: this },
    );
    this.vpcId = vpc.id;
    this.registerOutputs({ vpcId: this.vpcId });
  }
}
