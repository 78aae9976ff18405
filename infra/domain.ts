import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import type { DomainConfig } from "./config";

/** Arguments of {@link Certificate}. */
export interface CertificateArgs {
  /** Name prefix of every resource of the stack, e.g. `gomeet-prod`. */
  prefix: string;
  domain: DomainConfig;
  /** More names on the same certificate: the regional hosts (`<region>.<host>`) the regional load balancers answer. */
  extraNames?: string[];
}

/** A Let's Encrypt certificate for the public host (the zone must be managed by DigitalOcean DNS). */
export class Certificate extends pulumi.ComponentResource {
  /** Name the load balancer references the certificate by (stable across renewals, unlike its id). */
  readonly certificateName: pulumi.Output<string>;

  constructor(name: string, args: CertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:Certificate", name, {}, opts);
    const cert = new digitalocean.Certificate(
      `${args.prefix}-cert`,
      { name: `${args.prefix}-cert`, type: "lets_encrypt", domains: [args.domain.host, ...(args.extraNames ?? [])] },
      // name, type and domains are ForceNew (terraform-provider-digitalocean@401992a1e493a0e3cfc833197820867991fc011f:
      // digitalocean/certificate/resource_certificate.go) and a certificate's name is unique in the account (CCM
      // docs/controllers/services/annotations.md, do-loadbalancer-certificate-name): a new host must delete the old one first.
      { parent: this, deleteBeforeReplace: true },
    );
    this.certificateName = cert.name;
    this.registerOutputs({ certificateName: this.certificateName });
  }
}

/** The record name inside the zone: `@` for the apex, else the host without the zone. */
export function recordName(domain: DomainConfig): string {
  return domain.host === domain.zone ? "@" : domain.host.slice(0, -(domain.zone.length + 1));
}

/** A region's own host name, `<region>.<host>`: its regional load balancer, probed on its own (and the DNS-flip fallback). */
export function regionalDomain(domain: DomainConfig, region: string): DomainConfig {
  return { host: `${region}.${domain.host}`, zone: domain.zone };
}

/** Arguments of {@link DnsRecord}. */
export interface DnsRecordArgs {
  prefix: string;
  domain: DomainConfig;
  /** Public IP of the load balancer. */
  ip: pulumi.Input<string>;
}

/** An A record pointing the public host at the load balancer. */
export class DnsRecord extends pulumi.ComponentResource {
  readonly fqdn: pulumi.Output<string>;

  constructor(name: string, args: DnsRecordArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:DnsRecord", name, {}, opts);
    const record = new digitalocean.DnsRecord(
      `${args.prefix}-dns`,
      { domain: args.domain.zone, type: "A", name: recordName(args.domain), value: args.ip, ttl: 300 },
      // domain and type are ForceNew (terraform-provider-digitalocean@401992a1e493a0e3cfc833197820867991fc011f:
      // digitalocean/domain/resource_record.go): replaced created-first, two A records for one name would both answer.
      { parent: this, deleteBeforeReplace: true },
    );
    this.fqdn = record.fqdn;
    this.registerOutputs({ fqdn: this.fqdn });
  }
}
