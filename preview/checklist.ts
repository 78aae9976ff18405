/**
 * "Before the first `pulumi up`": what the stack needs that the program does not create, derived from the plan,
 * each with the command that verifies it. The offline preview prints it; docs/preview.md explains each item.
 */
import type { PlannedResource } from "./plan";
import { PROVIDER_FACTS } from "../infra/provider-facts/facts";
import { TYPE } from "../infra/type-tokens";

/** One precondition. */
export interface ChecklistItem {
  /** What must be true. */
  check: string;
  /** Why: what fails otherwise (and the source, where a provider document says so). */
  why: string;
  /** A command that shows whether it is true. */
  command: string;
}

const T = {
  vpc: TYPE.vpc,
  doks: TYPE.kubernetesCluster,
  deployment: TYPE.deployment,
  monitor: TYPE.monitorAlert,
  uptimeAlert: TYPE.uptimeAlert,
  certificate: TYPE.certificate,
  dns: TYPE.dnsRecord,
  helmRelease: TYPE.helmRelease,
  database: TYPE.databaseCluster,
};

const REGISTRY_HOST = "registry.digitalocean.com/";

/** Valkey's and PostgreSQL's TLS ports at DigitalOcean (infra/security-manifests.ts, DATABASE_PORTS). */
const VALKEY_TLS_PORT = 25061;
const POSTGRES_TLS_PORT = 25060;

/** The shell that finds a database cluster's id and private host, and writes its CA to ca.pem (doctl). */
function databaseCaCommand(name: string): string {
  return (
    `id=$(doctl databases list --format ID,Name --no-header | awk '$2=="${name}"{print $1}') && ` +
    `host=$(doctl databases connection "$id" --private --format Host --no-header) && ` +
    `doctl databases get-ca "$id" -o json | jq -r .certificate | base64 -d > ca.pem`
  );
}

/** The DOKS minor version prefix (`1.33.`) of a resolved version (`1.33.1-do.0`). */
function versionPrefix(version: unknown): string | undefined {
  return typeof version === "string" ? /^(\d+\.\d+\.)/.exec(version)?.[1] : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** E-mail addresses that alerts notify (monitor alerts and uptime alerts). */
function alertEmails(resources: readonly PlannedResource[]): string[] {
  const emails = resources.flatMap((r) => {
    if (r.type === T.monitor) return strings((r.props.alerts as { emails?: unknown } | undefined)?.emails);
    if (r.type === T.uptimeAlert)
      return (Array.isArray(r.props.notifications) ? r.props.notifications : []).flatMap((n) =>
        strings((n as { emails?: unknown }).emails),
      );
    return [];
  });
  return [...new Set(emails)].sort();
}

/** Container images of the plan's Deployments. */
function images(resources: readonly PlannedResource[]): string[] {
  const out = resources
    .filter((r) => r.type === T.deployment)
    .flatMap((r) => {
      const containers = (r.props.spec as { template?: { spec?: { containers?: { image?: unknown }[] } } } | undefined)?.template?.spec
        ?.containers;
      return (containers ?? []).map((c) => c.image).filter((i): i is string => typeof i === "string");
    });
  return [...new Set(out)];
}

/** The checklist for a rendered plan. */
export function firstUpChecklist(resources: readonly PlannedResource[]): ChecklistItem[] {
  const items: ChecklistItem[] = [];
  for (const vpc of resources.filter((r) => r.type === T.vpc && typeof r.props.ipRange === "string")) {
    items.push({
      check: `no other VPC of the account overlaps ${String(vpc.props.ipRange)} (gomeet:network.ipRange)`,
      why:
        "VPC ranges may not overlap within one account: the VPC, and everything after it, fails to create " +
        `(${PROVIDER_FACTS.resources[T.vpc]!.properties.ipRange!.rules!.find((r) => r.privateCidrPrefix)!.source})`,
      command: "doctl vpcs list --format Name,Region,IPRange",
    });
  }
  for (const doks of resources.filter((r) => r.type === T.doks)) {
    const prefix = versionPrefix(doks.props.version);
    if (prefix === undefined) continue;
    items.push({
      check: `DOKS still offers a version with the prefix ${prefix} (gomeet:kubernetes.versionPrefix)`,
      why:
        "the program takes the newest DOKS version with that prefix (getKubernetesVersions); DigitalOcean offers only its most recent " +
        "minor versions and retires old ones, and with none left the lookup finds no version and the cluster fails to create " +
        "(a running cluster keeps its version: auto-upgrades move it within the prefix, and the program ignores the version after creation)",
      command: `doctl kubernetes options versions --format Slug --no-header | grep '^${prefix.replace(/\./g, "\\.")}'   # expect at least one ${prefix}<patch>-do.<n>`,
    });
  }
  const emails = alertEmails(resources);
  if (emails.length) {
    const note = PROVIDER_FACTS.notes.uptimeAlertEmailsVerified!;
    items.push({
      check: `every alert e-mail is verified on the DigitalOcean account: ${emails.join(", ")}`,
      why: `"${note.text}" (${note.source}); an unverified address makes the alert fail to create`,
      command: "doctl account get --format Email,EmailVerified   # the account owner; team members: Settings > Team in the control panel",
    });
  }
  const registryImages = images(resources).filter((i) => i.startsWith(REGISTRY_HOST));
  const integration = resources.some((r) => r.type === T.doks && r.props.registryIntegration === true);
  if (registryImages.length || integration) {
    const [registry, repository, tag] = registryImages.length
      ? (/^registry\.digitalocean\.com\/([^/]+)\/([^:@]+)[:@](.+)$/.exec(registryImages[0]!)?.slice(1) ?? [
          "<registry>",
          "<repository>",
          "<tag>",
        ])
      : ["<registry>", "<repository>", "<tag>"];
    items.push({
      check: `the container registry "${registry}" exists on the account and holds ${repository}:${tag}`,
      why:
        "registryIntegration connects the cluster to the account's registry, which the program does not create; " +
        "without the image every pod stays in ImagePullBackOff",
      command: `doctl registry get && doctl registry repository list-tags ${repository}`,
    });
  }
  for (const release of resources.filter((r) => r.type === T.helmRelease && r.props.chart === "metrics-server")) {
    const namespace = String(release.props.namespace ?? "default");
    items.push({
      check: `the cluster runs no metrics-server of its own that the Helm release "${String(release.props.name)}" (${namespace}) would collide with`,
      why:
        "Helm does not take over objects another install created (the Deployment, Service and the v1beta1.metrics.k8s.io APIService), nor a release name in use: " +
        'the release fails with "exists and cannot be imported into the current release". Only a cluster that exists already ' +
        "(e.g. metrics-server from the 1-click app or kubectl apply); DOKS installs none",
      command: `kubectl -n ${namespace} get deploy,apiservice | grep metrics   # expect nothing, or only the release's own (label app.kubernetes.io/managed-by=Helm)`,
    });
  }
  for (const pg of resources.filter((r) => r.type === T.database && r.props.engine === "pg")) {
    const name = String(pg.props.name);
    items.push({
      check: `the PostgreSQL cluster ${name}'s certificate names its private host, which the app connects to under sslmode=verify-full`,
      why:
        "the app's PostgreSQL URLs (the pool and the read replicas) are verify-full on the private hosts (infra/postgres.ts, app/src/tls.ts): " +
        "a certificate whose names do not cover the private host fails every connection and keeps /readyz failing. Only a cluster that " +
        "exists already; run openssl from a pod in the cluster (the database firewall admits only the cluster), and the same for each " +
        'read replica\'s host (doctl databases replica list "$id")',
      command:
        `${databaseCaCommand(name)}   # then, in the cluster: ` +
        `openssl s_client -starttls postgres -connect "$host:${POSTGRES_TLS_PORT}" -servername "$host" -verify_hostname "$host" -verify_return_error -CAfile ca.pem < /dev/null`,
    });
  }
  for (const valkey of resources.filter((r) => r.type === T.database && r.props.engine === "valkey")) {
    const name = String(valkey.props.name);
    items.push({
      check: `the Valkey cluster ${name}'s certificate verifies with the CA DigitalOcean returns for it, host name included`,
      why:
        "the app verifies Valkey's server certificate against that CA and the host (app/src/tls.ts, rejectUnauthorized); one that " +
        "does not verify keeps /readyz failing with a certificate error. Only a cluster that exists already; run openssl from a pod " +
        "in the cluster (the database firewall admits only the cluster)",
      command:
        `${databaseCaCommand(name)}   # then, in the cluster: ` +
        `openssl s_client -connect "$host:${VALKEY_TLS_PORT}" -servername "$host" -verify_hostname "$host" -verify_return_error -CAfile ca.pem < /dev/null`,
    });
  }
  const zones = [...new Set(resources.filter((r) => r.type === T.dns).map((r) => String(r.props.domain)))];
  const letsEncrypt = resources.some((r) => r.type === T.certificate && r.props.type === "lets_encrypt");
  for (const zone of zones) {
    items.push({
      check: `the DNS zone ${zone} is managed by DigitalOcean and delegated to its name servers`,
      why: `the DnsRecord is created in that zone${letsEncrypt ? ", and the Let's Encrypt certificate is validated through it" : ""}; the program does not create the zone`,
      command: `doctl compute domain get ${zone} && dig +short NS ${zone}   # expect ns1/ns2/ns3.digitalocean.com`,
    });
  }
  return distinct([...items, ...globalLoadBalancerItems(resources)]);
}

/** Each item once: with two regions, per-cluster checks that name no cluster (the DOKS version, metrics-server) come twice. */
function distinct(items: readonly ChecklistItem[]): ChecklistItem[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = `${item.check}\n${item.command}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * With a Global Load Balancer: what DigitalOcean does not document and only a real deploy can show (WebSockets through
 * a GLB, a GLB over CCM-made load balancers), and the registry's region (a standby's new nodes pull the image from it).
 */
function globalLoadBalancerItems(resources: readonly PlannedResource[]): ChecklistItem[] {
  const glbs = resources.filter((r) => r.type === TYPE.loadBalancer && String(r.props.type).toUpperCase() === "GLOBAL");
  return glbs.flatMap((glb) => {
    const hosts = (Array.isArray(glb.props.domains) ? glb.props.domains : []).map((d) => String((d as { name?: unknown }).name));
    return hosts.flatMap((host) => [
      {
        check: `WebSocket upgrade through the GLB works: wss://${host}/ws answers 101 Switching Protocols and stays open`,
        why:
          "DigitalOcean documents neither WebSockets through a Global Load Balancer nor a GLB in front of load balancers made by " +
          "the Kubernetes cloud controller; if it fails, take the DNS fallback of docs/runbooks.md (region-failover)",
        command:
          `curl -sS -o /dev/null -w '%{http_code}\\n' --http1.1 --max-time 10 -H 'Connection: Upgrade' -H 'Upgrade: websocket' ` +
          `-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "https://${host}/ws?room=<room id>&access_token=<a user's token>"   # expect 101`,
      },
      {
        check: `the container registry is not in a region the stack runs in, or the image is mirrored`,
        why:
          "DigitalOcean Container Registry lives in one region: if it is the lost region, the standby's new nodes (autoscaling, " +
          "the restore) cannot pull the app image; nodes already running have it cached",
        command: "doctl registry get --format Name,Region",
      },
    ]);
  });
}

/** The checklist as the preview prints it. */
export function formatChecklist(items: readonly ChecklistItem[]): string {
  if (!items.length) return "";
  const lines = ["", "Before the first `pulumi up` (the program cannot create or check these; run each command):"];
  items.forEach((item, i) => {
    lines.push(`  ${i + 1}. ${item.check}`, `     why: ${item.why}`, `     check: ${item.command}`);
  });
  return lines.join("\n");
}
