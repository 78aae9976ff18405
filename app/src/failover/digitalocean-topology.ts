/**
 * What the DigitalOcean failover driver acts on: one JSON document (env FAILOVER_DIGITALOCEAN in the controller's
 * pod; `pulumi stack output failoverTopology` for the CLI), written by the stack (infra/failover-topology.ts) and
 * validated here before anything is called. Ids, names and URLs only: the API token travels separately.
 */
import { z } from "zod";

const id = z.string().min(1).max(100);
const url = z.url({ protocol: /^https?$/ });
const region = z.string().regex(/^[a-z]{3}\d$/, "a DigitalOcean region slug such as nyc3");

const regionSchema = z
  .object({
    region,
    /** The region's own load balancer (a target of the GLB). */
    loadBalancerId: id,
    /** The region's own endpoint, `https://<region>.<host>`, bypassing the GLB. */
    url,
    /** DigitalOcean's uptime check of that endpoint (four probe regions). */
    uptimeCheckId: id,
  })
  .strict();

export const topologySchema = z
  .object({
    entryUrl: url,
    glbId: id,
    primary: regionSchema.extend({ databaseId: id }).strict(),
    standby: regionSchema.extend({ databaseName: z.string().min(1).max(63), databaseId: id }).strict(),
    restore: z
      .object({
        pool: z
          .object({
            name: z.string().min(1).max(63),
            mode: z.enum(["transaction", "session", "statement"]),
            size: z.int().min(1).max(1000),
            db: z.string().min(1),
            user: z.string().min(1),
          })
          .strict(),
        size: z.string().min(1),
        numNodes: z.int().min(1).max(3),
      })
      .strict(),
    detection: z.object({ windowSeconds: z.int().min(1), intervalSeconds: z.int().min(1) }).strict(),
    mode: z.enum(["automatic", "manual"]),
  })
  .strict()
  .refine((t) => t.primary.region !== t.standby.region, {
    message: "primary and standby must be different regions",
    path: ["standby", "region"],
  });

export type FailoverTopology = z.infer<typeof topologySchema>;

/** Parses and validates the document; the error names the first bad field. */
export function parseTopology(text: string, origin: string): FailoverTopology {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${origin}: not JSON (${(error as Error).message})`);
  }
  const result = topologySchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new Error(`${origin}: ${issue.path.join(".") || "(document)"}: ${issue.message}`);
}

/** The region of the topology called `name`, or an error naming the two it knows. */
export function regionOf(topology: FailoverTopology, name: string): "primary" | "standby" {
  if (name === topology.primary.region) return "primary";
  if (name === topology.standby.region) return "standby";
  throw new Error(
    `region ${JSON.stringify(name)} is not in the topology (primary ${topology.primary.region}, standby ${topology.standby.region})`,
  );
}
