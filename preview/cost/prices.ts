/**
 * DigitalOcean list prices, from `digitalocean-prices.json` (each price with the page it was read from and the
 * date). A size or resource type the file does not name has no price: the estimate shows it as unpriced.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";

const usd = z.number().nonnegative();
const source = z.object({
  url: z.string().url(),
  read: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  says: z.string(),
  caveat: z.string().optional(),
});

export const priceTableSchema = z.object({
  currency: z.literal("USD"),
  period: z.literal("month"),
  read: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  note: z.string(),
  sources: z.record(z.string(), source),
  kubernetes: z.object({ controlPlaneMonthlyUsd: usd, haControlPlaneMonthlyUsd: usd, source: z.string() }),
  dropletSizes: z.object({ source: z.string(), monthlyUsd: z.record(z.string(), usd) }),
  loadBalancer: z.object({ source: z.string(), regionalPerNodeMonthlyUsd: usd, letsEncryptCertificateMonthlyUsd: usd }),
  databaseNodes: z.object({ source: z.string().optional(), monthlyUsd: z.record(z.string(), usd) }),
});

export type PriceTable = z.infer<typeof priceTableSchema>;

/** The committed price file, relative to the repository root. */
export const PRICE_FILE = "preview/cost/digitalocean-prices.json";

/** Reads and checks a price file; a malformed one is an error naming the file and the bad field. */
export function loadPrices(file = path.join(__dirname, "digitalocean-prices.json")): PriceTable {
  const parsed = priceTableSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const table = parsed.data;
  const named = [table.kubernetes.source, table.dropletSizes.source, table.loadBalancer.source, table.databaseNodes.source];
  const missing = named.filter((s): s is string => s !== undefined && !(s in table.sources));
  if (missing.length) throw new Error(`${file}: source(s) ${missing.join(", ")} named but not listed under "sources"`);
  return table;
}
