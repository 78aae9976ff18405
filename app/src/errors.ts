/**
 * Errors that cross the HTTP boundary. Every one becomes `{"error": {"code", "message"}}` with its status.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Response headers the error carries (e.g. Retry-After). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }

  toBody(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** A dependency (Valkey, PostgreSQL, LiveKit) that the request needs is not reachable right now. */
export class DependencyUnavailableError extends HttpError {
  constructor(code: string, message: string) {
    super(503, code, message);
    this.name = "DependencyUnavailableError";
  }
}

/** A write reached a standby region: its database is a read-only node until the region is promoted. */
export class RegionStandbyError extends HttpError {
  constructor(retryAfterSeconds: number) {
    super(
      503,
      "region_standby",
      "This region is a standby: its database takes no writes until it is promoted (reads and rooms work); retry shortly",
      { "retry-after": String(retryAfterSeconds) },
    );
    this.name = "RegionStandbyError";
  }
}

export function errorMessage(error: unknown): string {
  // Duck-typed: errors from Node internals may come from another realm (e.g. under jest).
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return String(error);
}
