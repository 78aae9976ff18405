/** Reading JSON request bodies and writing JSON responses. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "../errors";

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

/** How much of a rejected body is read and thrown away before answering (nginx's default client_max_body_size). */
const DISCARD_LIMIT_BYTES = 1024 * 1024;

/**
 * Reads and throws away the rest of a body being refused, so a proxy still writing it is not cut off
 * mid-write (nginx turns that broken pipe into a 502 and counts it against the instance). Past
 * DISCARD_LIMIT_BYTES it stops reading and the connection is closed after the answer.
 */
async function discardRest(req: IncomingMessage): Promise<void> {
  let seen = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > DISCARD_LIMIT_BYTES) break;
  }
}

/**
 * The request body parsed as JSON; an empty body is `undefined`. 413 `body_too_large` past
 * `maxBytes`, 415 `unsupported_media_type` unless JSON, 400 `invalid_json` when it does not parse.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new HttpError(413, "body_too_large", `The request body exceeds ${maxBytes} bytes`);
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) {
    await discardRest(req);
    throw tooLarge();
  }
  if (declared === 0 && req.headers["transfer-encoding"] === undefined) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      await discardRest(req);
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, "unsupported_media_type", "The request body must be application/json");
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new HttpError(400, "invalid_json", "The request body is not valid JSON");
  }
}
