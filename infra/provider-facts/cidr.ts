/** IPv4 CIDR arithmetic for VPC ranges: parsing, RFC 1918 membership, overlap. */

const RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** An IPv4 CIDR as base address and prefix length; `undefined` when malformed or when host bits are set. */
export function parseCidr(text: string): { base: number; prefix: number } | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const base = ipv4(m[1]!);
  const prefix = Number(m[2]);
  if (base === undefined || prefix > 32) return undefined;
  return base % 2 ** (32 - prefix) === 0 ? { base, prefix } : undefined;
}

const last = (c: { base: number; prefix: number }) => c.base + 2 ** (32 - c.prefix) - 1;

/** Whether two IPv4 CIDRs share an address (false when either is malformed). */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return !!x && !!y && x.base <= last(y) && y.base <= last(x);
}

/** Whether an IPv4 CIDR lies wholly inside RFC 1918 private space. */
export function isPrivateCidr(text: string): boolean {
  const c = parseCidr(text);
  return (
    !!c &&
    RFC1918.some((r) => {
      const p = parseCidr(r)!;
      return c.prefix >= p.prefix && c.base >= p.base && last(c) <= last(p);
    })
  );
}
