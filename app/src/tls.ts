/**
 * Verified TLS to the databases. With a CA configured (DATABASE_CA_FILE / REDIS_CA_FILE), a server is
 * trusted only if its certificate chains to that CA and names the host the app connected to: for
 * PostgreSQL that is libpq's `verify-full`, for Valkey a `rediss://` connection with the CA. Without a CA,
 * the URL's own settings apply unchanged.
 */
import { errorMessage } from "./errors";

/** Query parameters of a PostgreSQL URL that pg turns into its own `ssl` object (they would replace ours). */
const PG_SSL_PARAMS = ["ssl", "sslmode", "sslrootcert", "sslcert", "sslkey", "uselibpqcompat", "sslnegotiation"];

/**
 * pg Pool settings for `url`: with a CA, the URL's ssl parameters are dropped and replaced by
 * verify-full against the CA (pg merges the parsed URL over the config, so they cannot stay).
 * Node checks the certificate's names against the host (servername) by default.
 */
export function postgresConnection(url: string, ca: string | undefined): { connectionString: string; ssl?: { ca: string; rejectUnauthorized: true } } {
  if (ca === undefined) return { connectionString: url };
  const parsed = new URL(url);
  for (const param of PG_SSL_PARAMS) parsed.searchParams.delete(param);
  return { connectionString: parsed.toString(), ssl: { ca, rejectUnauthorized: true } };
}

/** node-redis socket settings for a `rediss://` URL verified against `ca` (nothing to add without a CA). */
export function redisTlsSocket(ca: string | undefined): { tls: true; ca: string; rejectUnauthorized: true } | Record<string, never> {
  return ca === undefined ? {} : { tls: true, ca, rejectUnauthorized: true };
}

/** Node's codes for a server certificate that did not verify. */
const CERTIFICATE_ERRORS: Record<string, string> = {
  SELF_SIGNED_CERT_IN_CHAIN: "is signed by a CA that is not the configured one",
  DEPTH_ZERO_SELF_SIGNED_CERT: "is self-signed and not the configured CA",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "is not signed by the configured CA",
  UNABLE_TO_GET_ISSUER_CERT: "is not signed by the configured CA",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "is not signed by the configured CA",
  CERT_SIGNATURE_FAILURE: "has a signature that does not verify",
  CERT_HAS_EXPIRED: "has expired",
  CERT_NOT_YET_VALID: "is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "does not name the host connected to",
};

/**
 * A message that says which certificate check failed, for logs and /readyz, e.g.
 * `TLS: the server certificate of PostgreSQL db:25060 is not signed by the configured CA (DATABASE_CA_FILE):
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE unable to verify the first certificate`. Undefined if `error` is not one.
 */
export function certificateProblem(error: unknown, server: string, caVariable: string): string | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== "string" || !(code in CERTIFICATE_ERRORS)) return undefined;
  return `TLS: the server certificate of ${server} ${CERTIFICATE_ERRORS[code]} (${caVariable}): ${code} ${errorMessage(error)}`;
}
