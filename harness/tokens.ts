/** Users' access tokens for tests, the local cluster, drills and the bench: the one JWT signer. */
import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";

/** The tests' and the bench's AUTH_JWT_SECRET (the app requires at least 32 characters). */
export const TEST_JWT_SECRET = "test-secret-that-is-at-least-32-characters-long";

/** A fresh HS256 secret (43 characters; the app requires at least 32). */
export function newAuthSecret(): string {
  return randomBytes(32).toString("base64url");
}

export interface UserTokenOptions {
  name?: string;
  /** Lifetime in seconds (default one day); negative for an already expired token. */
  expiresInSeconds?: number;
  /** The JWS algorithm in the header (default HS256; another HMAC algorithm makes a token the app refuses). */
  alg?: string;
}

export async function signUserToken(secret: string, userId: string, opts: UserTokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const lifetime = opts.expiresInSeconds ?? 24 * 60 * 60;
  return new SignJWT(opts.name === undefined ? {} : { name: opts.name })
    .setProtectedHeader({ alg: opts.alg ?? "HS256" })
    .setSubject(userId)
    .setIssuedAt(Math.min(now, now + lifetime - 1))
    .setExpirationTime(now + lifetime)
    .sign(new TextEncoder().encode(secret));
}
