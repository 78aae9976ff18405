/**
 * Size and count rules DigitalOcean enforces that no schema or validation function states: how many nodes a
 * database cluster may have, the smallest plan that takes standby nodes, the smallest DOKS node. The numbers are
 * read from DigitalOcean's openapi where it states them (the cluster-resize model, the `/v2/databases/options` and
 * `/v2/kubernetes/options` examples), and the product documentation's statements (not a repository: quoted with
 * their address and the date they were read) are kept next to them. Where the two differ, the stricter one is
 * the rule: the API reference's options example still lists three-node Valkey layouts, the Valkey documentation
 * allows one standby node.
 */
import { parse as parseYaml } from "yaml";
import type { LimitFact, ProviderFacts } from "../facts";
import type { Checkout } from "./checkout";

/** DigitalOcean size slugs end in the node's memory: `db-s-2vcpu-4gb`, `s-4vcpu-8gb`, `so1_5-2vcpu-16gb-intel`. */
export const SLUG_MEMORY_PATTERN = "-(\\d+)gb(-[a-z]+)?$";
const TAG_DESCRIPTIONS = "specification/DigitalOcean-public.v2.yaml";
const DATABASE_OPTIONS = "specification/resources/databases/responses/options.yml";
const CLUSTER_RESIZE = "specification/resources/databases/models/database_cluster_resize.yml";
const KUBERNETES_OPTIONS = "specification/resources/kubernetes/responses/examples.yml";
const READ_ON = "read 2026-12-07";

/** The product documentation's statements (docs.digitalocean.com), quoted. */
export const DOCUMENTED = {
  standbyMemory: {
    text: "Due to the memory requirements of replication, standby nodes are only supported for plans with 2 GB of RAM or more.",
    sources: [
      `https://docs.digitalocean.com/products/databases/postgresql/how-to/add-standby-nodes/ (${READ_ON})`,
      `https://docs.digitalocean.com/products/databases/valkey/how-to/add-standby-nodes/ (${READ_ON})`,
      `https://docs.digitalocean.com/glossary/standby/ (${READ_ON})`,
    ],
    gb: 2,
  },
  pgStandbys: {
    text: "Clusters can have up to two standby nodes.",
    source: `https://docs.digitalocean.com/products/databases/postgresql/how-to/add-standby-nodes/ (${READ_ON})`,
    nodes: 3,
  },
  valkeyStandbys: {
    text: "Valkey clusters can have up to one standby node.",
    source: `https://docs.digitalocean.com/products/databases/valkey/how-to/add-standby-nodes/ (${READ_ON})`,
    nodes: 2,
  },
} as const;

function slugMemoryGbOf(slug: string): number | undefined {
  const m = new RegExp(SLUG_MEMORY_PATTERN).exec(slug);
  return m ? Number(m[1]) : undefined;
}

function smallest(slugs: string[], where: string): number {
  const sizes = slugs.map(slugMemoryGbOf).filter((gb): gb is number => gb !== undefined);
  if (sizes.length === 0) throw new Error(`${where}: no size slug with its memory in it`);
  return Math.min(...sizes);
}

interface Layout {
  num_nodes: number;
  sizes: string[];
}

export function limitFacts(openapi: Checkout): ProviderFacts["limits"] {
  const tags = openapi.read(TAG_DESCRIPTIONS).replace(/\s+/g, " ");
  if (!/Each slug denotes the node's identifier, CPU count, and amount of RAM, in that order\./.test(tags)) {
    throw new Error(`${TAG_DESCRIPTIONS}: the Databases tag no longer says how a size slug names its RAM`);
  }
  const options = parseYaml(openapi.read(DATABASE_OPTIONS)) as {
    content: { "application/json": { example: { options: Record<string, { layouts: Layout[] }> } } };
  };
  const layouts = options.content["application/json"].example.options;
  const resize = (parseYaml(openapi.read(CLUSTER_RESIZE)) as { properties: { num_nodes: { description: string } } }).properties.num_nodes
    .description;
  const range = /Valid values are (?:are )?(\d+)-(\d+)/.exec(resize);
  if (!range) throw new Error(`${CLUSTER_RESIZE}: num_nodes no longer states its valid range`);
  const standbyMemory = (engine: string): LimitFact => {
    const multiNode = (layouts[engine]?.layouts ?? []).filter((l) => l.num_nodes >= 2).flatMap((l) => l.sizes);
    const fromApi = smallest(multiNode, `${DATABASE_OPTIONS} (${engine}, 2 or more nodes)`);
    return {
      value: Math.max(fromApi, DOCUMENTED.standbyMemory.gb),
      text: `${DOCUMENTED.standbyMemory.text} (The API's options example offers ${engine} layouts of 2 or more nodes from ${fromApi} GB.)`,
      sources: [openapi.source(DATABASE_OPTIONS), ...DOCUMENTED.standbyMemory.sources],
    };
  };
  const kubernetesExamples = parseYaml(openapi.read(KUBERNETES_OPTIONS)) as {
    kubernetes_options: { value: { options: { sizes: { slug: string }[] } } };
  };
  const nodeSizes = kubernetesExamples.kubernetes_options.value.options.sizes.map((s) => s.slug);
  const nodeMemory = smallest(nodeSizes, `${KUBERNETES_OPTIONS} kubernetes_options`);
  return {
    slugMemory: {
      pattern: SLUG_MEMORY_PATTERN,
      text: "Each slug denotes the node's identifier, CPU count, and amount of RAM, in that order.",
      source: openapi.source(TAG_DESCRIPTIONS),
    },
    databases: {
      pg: {
        maxNodes: {
          value: Math.min(Number(range[2]), DOCUMENTED.pgStandbys.nodes),
          text: `${resize.trim()} ${DOCUMENTED.pgStandbys.text}`,
          sources: [openapi.source(CLUSTER_RESIZE), DOCUMENTED.pgStandbys.source],
        },
        standbyMinMemoryGb: standbyMemory("pg"),
      },
      valkey: {
        maxNodes: {
          value: Math.min(Number(range[2]), DOCUMENTED.valkeyStandbys.nodes),
          text: `${DOCUMENTED.valkeyStandbys.text} (The API's num_nodes range, 1-${range[2]}, is for all engines.)`,
          sources: [DOCUMENTED.valkeyStandbys.source, openapi.source(CLUSTER_RESIZE)],
        },
        standbyMinMemoryGb: standbyMemory("valkey"),
      },
    },
    kubernetesNodeMinMemoryGb: {
      value: nodeMemory,
      text: `The sizes DOKS offers (the API's /v2/kubernetes/options example) start at ${nodeMemory} GB of memory: ${nodeSizes.slice(0, 3).join(", ")}, ...`,
      sources: [openapi.source(KUBERNETES_OPTIONS)],
    },
  };
}
