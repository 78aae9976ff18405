/** Tokens for the bad-input drill that a correct server must refuse: forged, expired, malformed, mis-signed. */
import { SignJWT } from "jose";

/** Tokens that must all be refused, signed ahead (jose signs asynchronously). */
export interface BadTokens {
  /** Well-formed and correctly signed, but not acceptable (expired, no sub, ...). */
  list: Array<{ label: string; token: string }>;
}

function b64url(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

/** Signs every kind of unacceptable token ahead of the barrage. */
export async function badTokens(secret: string, validToken: string): Promise<BadTokens> {
  const key = new TextEncoder().encode(secret);
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, alg = "HS256", signingKey = key): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg }).sign(signingKey);
  const [header, payload, signature] = validToken.split(".") as [string, string, string];
  const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
  const list = [
    {
      label: "forged (another secret)",
      token: await sign({ sub: "mallory", exp: now + 3600 }, "HS256", new TextEncoder().encode("x".repeat(43))),
    },
    { label: "alg none", token: `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: "mallory", exp: now + 3600 })}.` },
    { label: "HS512", token: await sign({ sub: "mallory", exp: now + 3600 }, "HS512") },
    { label: "expired", token: await sign({ sub: "mallory", exp: now - 60 }) },
    { label: "no sub", token: await sign({ exp: now + 3600 }) },
    { label: "empty sub", token: await sign({ sub: "", exp: now + 3600 }) },
    { label: "sub too long", token: await sign({ sub: "m".repeat(200), exp: now + 3600 }) },
    { label: "sub not a string", token: await sign({ sub: 42, exp: now + 3600 }) },
    { label: "name not a string", token: await sign({ sub: "mallory", name: { evil: true }, exp: now + 3600 }) },
    { label: "no exp", token: await sign({ sub: "mallory" }) },
    { label: "not yet valid", token: await sign({ sub: "mallory", exp: now + 7200, nbf: now + 3600 }) },
    { label: "payload swapped", token: `${header}.${b64url({ sub: "admin", exp: now + 3600 })}.${signature}` },
    { label: "signature flipped", token: `${header}.${payload}.${flipped}` },
    { label: "signature cut", token: `${header}.${payload}.${signature.slice(0, 10)}` },
    { label: "no signature", token: `${header}.${payload}` },
    { label: "not a JWT", token: "not-a-jwt" },
    { label: "dots", token: "..." },
    { label: "bad base64", token: "e30.e30.%%%" },
    { label: "huge", token: "a".repeat(6000) },
  ];
  return { list };
}
