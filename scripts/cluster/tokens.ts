/** Access tokens for the cluster's users: HS256 JWTs signed with the cluster's AUTH_JWT_SECRET. */
import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";

/** A fresh HS256 secret (43 characters; the app requires at least 32). */
export function newAuthSecret(): string {
  return randomBytes(32).toString("base64url");
}

export interface UserTokenOptions {
  name?: string;
  /** Lifetime in seconds (default one day); negative for an already expired token. */
  expiresInSeconds?: number;
}

export async function signUserToken(secret: string, userId: string, opts: UserTokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const lifetime = opts.expiresInSeconds ?? 24 * 60 * 60;
  return new SignJWT(opts.name === undefined ? {} : { name: opts.name })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userId)
    .setIssuedAt(Math.min(now, now + lifetime - 1))
    .setExpirationTime(now + lifetime)
    .sign(new TextEncoder().encode(secret));
}
