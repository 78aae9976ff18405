/**
 * A small DigitalOcean API client for the failover driver: JSON over fetch with the bearer token, a timeout per
 * request, retries of 429 and 5xx answers (and network errors) with backoff, and errors that name the request, the
 * status and DigitalOcean's own message. Every request is reported to `onRequest` (the CLI prints them).
 */

export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE";

export interface ApiClientOptions {
  /** e.g. https://api.digitalocean.com (tests: the stand-in server on 127.0.0.1). */
  baseUrl: string;
  token: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** Attempts for 429 / 5xx / network errors (default 4). */
  attempts?: number;
  /** First backoff (default 1 s), doubled each attempt. */
  backoffMs?: number;
  onRequest?: (line: string) => void;
  fetch?: typeof fetch;
}

/** A non-2xx answer. `status` 404 is how the driver learns a thing is already gone / done. */
export class ApiError extends Error {
  constructor(
    readonly method: HttpMethod,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`DigitalOcean API ${method} ${path}: HTTP ${status}${apiMessage(body)}`);
    this.name = "ApiError";
  }
}

function apiMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { id?: unknown; message?: unknown };
    if (typeof parsed.message === "string") return ` (${typeof parsed.id === "string" ? `${parsed.id}: ` : ""}${parsed.message})`;
  } catch {
    // not JSON: quoted below
  }
  return body ? ` (${body.slice(0, 200)})` : "";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DigitalOceanApi {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    if (!options.token) throw new Error("DigitalOcean API: no token (DO_API_TOKEN)");
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** One request; resolves the parsed JSON body (undefined for 202/204 without one). */
  async request<T = unknown>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
    const attempts = this.options.attempts ?? 4;
    let backoff = this.options.backoffMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      this.options.onRequest?.(`${method} ${path}${body === undefined ? "" : ` ${JSON.stringify(body)}`}`);
      try {
        const response = await this.fetch(new URL(path, this.options.baseUrl), {
          method,
          headers: {
            authorization: `Bearer ${this.options.token}`,
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        });
        const text = await response.text();
        if (response.ok) return (text ? JSON.parse(text) : undefined) as T;
        const error = new ApiError(method, path, response.status, text);
        if (!(response.status === 429 || response.status >= 500) || attempt >= attempts) throw error;
      } catch (error) {
        if (error instanceof ApiError && !(error.status === 429 || error.status >= 500)) throw error;
        if (attempt >= attempts)
          throw error instanceof ApiError ? error : new Error(`DigitalOcean API ${method} ${path}: ${describe(error)}`);
      }
      await sleep(backoff);
      backoff *= 2;
    }
  }

  /** GET that answers undefined on 404. */
  async find<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>("GET", path);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.name === "TimeoutError" ? "timed out" : error.message;
  return String(error);
}
