/**
 * Errors that cross the HTTP boundary. Every one becomes `{"error": {"code", "message"}}` with its status.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
