/** Reading JSON request bodies and writing JSON responses. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "../errors";

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/**
 * The request body parsed as JSON; an empty body is `undefined`. 413 `body_too_large` past
 * `maxBytes`, 415 `unsupported_media_type` unless JSON, 400 `invalid_json` when it does not parse.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) throw new HttpError(413, "body_too_large", `The request body exceeds ${maxBytes} bytes`);
  if (declared === 0 && req.headers["transfer-encoding"] === undefined) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, "body_too_large", `The request body exceeds ${maxBytes} bytes`);
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
