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
export function postgresConnection(
  url: string,
  ca: string | undefined,
): { connectionString: string; ssl?: { ca: string; rejectUnauthorized: true } } {
  if (ca === undefined) return { connectionString: url };
  const parsed = new URL(url);
  for (const param of PG_SSL_PARAMS) parsed.searchParams.delete(param);
  return { connectionString: parsed.toString(), ssl: { ca, rejectUnauthorized: true } };
}

/** node-redis socket settings for a `rediss://` URL verified against `ca` (nothing to add without a CA). */
export function valkeyTlsSocket(ca: string | undefined): { tls: true; ca: string; rejectUnauthorized: true } | Record<string, never> {
  return ca === undefined ? {} : { tls: true, ca, rejectUnauthorized: true };
}

/** Node's codes for a TLS connection that did not verify, and what each means for the server. */
const TLS_FAILURES: Record<string, string> = {
  SELF_SIGNED_CERT_IN_CHAIN: "presents a certificate not signed by the configured CA",
  DEPTH_ZERO_SELF_SIGNED_CERT: "presents a self-signed certificate that is not the configured CA",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "presents a certificate not signed by the configured CA",
  UNABLE_TO_GET_ISSUER_CERT: "presents a certificate not signed by the configured CA",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "presents a certificate not signed by the configured CA",
  CERT_SIGNATURE_FAILURE: "presents a certificate whose signature does not verify",
  CERT_HAS_EXPIRED: "presents an expired certificate",
  CERT_NOT_YET_VALID: "presents a certificate that is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "presents a certificate that does not name the host connected to",
  ERR_SSL_WRONG_VERSION_NUMBER: "does not answer with TLS",
  ERR_SSL_PACKET_LENGTH_TOO_LONG: "does not answer with TLS",
};

/**
 * A message that says which TLS check failed, for logs and /readyz, e.g. `TLS: PostgreSQL db:25060/gomeet
 * presents a certificate not signed by the configured CA (DATABASE_CA_FILE): UNABLE_TO_VERIFY_LEAF_SIGNATURE
 * unable to verify the first certificate`. Undefined if `error` is not a TLS verification failure.
 */
export function certificateProblem(error: unknown, server: string, caVariable: string): string | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== "string" || !(code in TLS_FAILURES)) return undefined;
  return `TLS: ${server} ${TLS_FAILURES[code]} (${caVariable}): ${code} ${errorMessage(error)}`;
}
