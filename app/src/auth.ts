/**
 * Authentication of the app's own JWTs (not LiveKit's): HS256 with a shared secret, or any
 * asymmetric algorithm from a JWKS URL. `sub` is the user id, `name` an optional display name.
 */
import { createSecretKey } from "node:crypto";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from "jose";
import type { AuthConfig } from "./config";
import { HttpError } from "./errors";
import { isValidUserId, MAX_USER_ID_LENGTH, unsafeTextProblem } from "./ids";

export interface User {
  id: string;
  name: string;
}

export type Authenticator = (token: string | undefined) => Promise<User>;

/**
 * Longest access token verified (bytes). Ours carry a few claims (a few hundred bytes); a larger one is
 * refused 401 `invalid_token` before any parsing or signature work. (Request headers over Node's 16 KiB
 * limit never reach here: the server answers 431.)
 */
export const MAX_TOKEN_BYTES = 8192;
const MAX_NAME = 128;
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

function unauthorized(code: string, message: string): HttpError {
  return new HttpError(401, code, message);
}

export function createAuthenticator(auth: AuthConfig, claims: { issuer?: string; audience?: string }): Authenticator {
  const options: JWTVerifyOptions = {
    algorithms: auth.kind === "secret" ? ["HS256"] : ASYMMETRIC,
    issuer: claims.issuer,
    audience: claims.audience,
    requiredClaims: ["sub", "exp"],
  };
  // A KeyObject made once: handing jose the raw bytes would build one on every verification.
  const secret = auth.kind === "secret" ? createSecretKey(Buffer.from(auth.secret, "utf8")) : undefined;
  const jwks: JWTVerifyGetKey | undefined =
    auth.kind === "jwks" ? createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 2000 }) : undefined;

  return async (token) => {
    if (token === undefined || token === "") {
      throw unauthorized("missing_token", "An access token is required (Authorization: Bearer <jwt>, or access_token=<jwt> on /ws)");
    }
    if (Buffer.byteLength(token, "utf8") > MAX_TOKEN_BYTES) {
      throw unauthorized("invalid_token", `The access token is longer than ${MAX_TOKEN_BYTES} bytes`);
    }
    let payload;
    try {
      payload =
        secret !== undefined
          ? (await jwtVerify(token, secret, options)).payload
          : (await jwtVerify(token, jwks as JWTVerifyGetKey, options)).payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthorized("token_expired", "The access token has expired");
      const keySetUnreachable = error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError);
      if (keySetUnreachable) {
        throw new HttpError(503, "auth_unavailable", "The key set used to verify access tokens could not be fetched");
      }
      throw unauthorized("invalid_token", `The access token is not valid: ${invalidTokenReason(error)}`);
    }
    const sub = payload.sub;
    if (!isValidUserId(sub)) {
      throw unauthorized(
        "invalid_token",
        `The access token's "sub" must be a user id of 1-${MAX_USER_ID_LENGTH} characters without control characters or lone surrogates`,
      );
    }
    const name = payload["name"];
    if (name !== undefined && (typeof name !== "string" || name.length > MAX_NAME || unsafeTextProblem(name) !== undefined)) {
      throw unauthorized(
        "invalid_token",
        `The access token's "name" must be a string of at most ${MAX_NAME} characters without control characters or lone surrogates`,
      );
    }
    return { id: sub, name: typeof name === "string" && name !== "" ? name : sub };
  };
}

/**
 * Why a token was refused, in our own words: the JWT library's messages are its own (they change between versions
 * and may echo parts of the token), so a 401 names only the check that failed.
 */
function invalidTokenReason(error: unknown): string {
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = ["iss", "aud", "nbf", "iat", "sub", "exp"].includes(error.claim) ? error.claim : "a required";
    return `the ${claim} claim is missing or not accepted`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "its algorithm is not accepted";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "its signature does not verify";
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "no key of the key set matches it";
  if (error instanceof joseErrors.JOSENotSupported) return "it uses an unsupported algorithm or header";
  return "it is not a well-formed signed JWT";
}

/** The token from `Authorization: Bearer <jwt>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
