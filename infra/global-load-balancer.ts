/**
 * The single public entry of a two-region stack: a DigitalOcean Global Load Balancer over the regions' own
 * (CCM-made) load balancers.
 *
 * Fields and values, verified against the providers' sources:
 * - `type: "GLOBAL"` (one of REGIONAL, REGIONAL_NETWORK, GLOBAL; ForceNew; a GLOBAL one takes no `region`):
 *   digitalocean/terraform-provider-digitalocean@401992a1e493a0e3cfc833197820867991fc011f:
 *   digitalocean/loadbalancer/resource_loadbalancer.go (`type`, loadbalancerDiffCheck) and
 *   pulumi/pulumi-digitalocean@c52e0a381c523576bfd0c2fc587b7d644bd390f6:provider/cmd/pulumi-resource-digitalocean/schema.json
 *   (digitalocean:index/loadBalancer:LoadBalancer).
 * - `glbSettings`: `targetProtocol` http | https, `targetPort` 80 | 443 (both required), `regionPriorities` (region →
 *   integer, lower = preferred), `failoverThreshold` 1-99 (percent), `cdn.isEnabled`: the same terraform file
 *   (glb_settings) and pulumi type LoadBalancerGlbSettings; meanings from digitalocean/openapi@
 *   7c1300c479fed9c353cda9fc21cd968619552304:specification/resources/load_balancers/models/glb_settings.yml.
 * - `targetLoadBalancerIds`: "the UUIDs of the Regional load balancers to be used as target backends" (openapi
 *   load_balancer_base.yml); here the ids the CCM writes on each region's Service.
 * - `domains`: `{ name, isManaged, certificateName }`; `is_managed: true` means DigitalOcean adds the A and AAAA
 *   records the GLB needs to the zone (openapi models/domains.yml): the host's record moves from the stack's DnsRecord
 *   to the GLB.
 *
 * Not documented by DigitalOcean: WebSockets through a GLB, and a GLB over CCM-made load balancers. Both are an item of
 * the deploy checklist (docs/preview.md), with the DNS-flip fallback in docs/runbooks.md.
 */
import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import type { AlertsConfig, DomainConfig } from "./config";

/** One region behind the GLB. */
export interface GlbTarget {
  region: string;
  /** The regional load balancer's id (the CCM's `kubernetes.digitalocean.com/load-balancer-id` annotation). */
  loadBalancerId: pulumi.Input<string>;
  /** What makes the id exist: the Service the CCM annotates. */
  createdBy: pulumi.Resource;
}

/** Arguments of {@link GlobalLoadBalancer}. */
export interface GlobalLoadBalancerArgs {
  prefix: string;
  /** The regions, the preferred first (priority 1, then 2, ...). */
  targets: GlbTarget[];
  /** Percent of the preferred region's targets failing at which the GLB sends traffic to the next region. */
  failoverThresholdPercent: number;
  domain: DomainConfig;
  certificateName: pulumi.Input<string>;
  /** Idle timeout: long enough for a quiet WebSocket (the regional load balancers use the same). */
  idleTimeoutSeconds: number;
  /** An uptime check of the public endpoint, and who hears when it is down everywhere. */
  alerts: AlertsConfig;
}

/** `{ nyc3: 1, tor1: 2 }`: the order of the targets as GLB region priorities (lower is preferred). */
export function regionPriorities(regions: readonly string[]): Record<string, number> {
  if (new Set(regions).size !== regions.length) throw new Error(`GLB region priorities: regions repeat in ${regions.join(", ")}`);
  return Object.fromEntries(regions.map((region, i) => [region, i + 1]));
}

/** The GLB's settings (a plain function: the tests and the failover driver's plan read the same values). */
export function glbSettings(
  regions: readonly string[],
  failoverThresholdPercent: number,
): digitalocean.types.input.LoadBalancerGlbSettings {
  return {
    // TLS again from the GLB to each regional load balancer: the hop crosses the internet.
    targetProtocol: "https",
    targetPort: 443,
    regionPriorities: regionPriorities(regions),
    failoverThreshold: failoverThresholdPercent,
    cdn: { isEnabled: false }, // an API of realtime calls: nothing to cache
  };
}

/** The Global Load Balancer, and an uptime check of the public endpoint through it. */
export class GlobalLoadBalancer extends pulumi.ComponentResource {
  readonly id: pulumi.Output<string>;
  /** The public URL, an Output so the stack exports it like its other endpoints (a plain string is not a stack output here). */
  readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: GlobalLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:GlobalLoadBalancer", name, {}, opts);
    const glb = new digitalocean.LoadBalancer(
      `${args.prefix}-glb`,
      {
        name: `${args.prefix}-glb`,
        type: "GLOBAL",
        targetLoadBalancerIds: args.targets.map((t) => t.loadBalancerId),
        glbSettings: glbSettings(
          args.targets.map((t) => t.region),
          args.failoverThresholdPercent,
        ),
        domains: [{ name: args.domain.host, isManaged: true, certificateName: args.certificateName }],
        healthcheck: { protocol: "https", port: 443, path: "/readyz", checkIntervalSeconds: 10, responseTimeoutSeconds: 5 },
        redirectHttpToHttps: true,
        httpIdleTimeoutSeconds: args.idleTimeoutSeconds,
      },
      // After a failover the controller owns targets and priorities until the stack is reconciled (`gomeet:standby.promoted`,
      // docs/runbooks.md): a `pulumi up` of the old config in between would route users to the lost region again.
      { parent: this, dependsOn: args.targets.map((t) => t.createdBy) },
    );
    this.id = glb.id;
    const url = `https://${args.domain.host}`;
    this.endpoint = pulumi.output(url);

    const notifications = [
      {
        emails: args.alerts.emails,
        slacks: args.alerts.slack ? [{ channel: args.alerts.slack.channel, url: args.alerts.slack.webhookUrl }] : [],
      },
    ];
    const check = new digitalocean.UptimeCheck(
      `${args.prefix}-uptime-global`,
      {
        name: `${args.prefix}-readyz-global`,
        target: `${url}/readyz`,
        type: "https",
        regions: ["us_east", "us_west", "eu_west", "se_asia"],
        enabled: true,
      },
      { parent: this },
    );
    new digitalocean.UptimeAlert(
      `${args.prefix}-down-global`,
      { checkId: check.id, name: `${args.prefix}-down-global`, notifications, type: "down_global", period: "2m" },
      { parent: this },
    );
    this.registerOutputs({ id: this.id, endpoint: this.endpoint });
  }
}
