/**
 * The fan-out payload: exactly PAYLOAD_BYTES of ASCII carrying the sender's send time, read from
 * the sender's own monotonic clock (performance.now()). Every member of a room lives in the same
 * worker process as its senders, so send and receive times come from one clock.
 */
export const PAYLOAD_BYTES = 100;

const PREFIX = "t=";
const END = ";";

/** Padding by the length it must fill (the head's length varies little): built once each. */
const PADDING = Array.from({ length: PAYLOAD_BYTES + 1 }, (_, n) => "x".repeat(n));

/** `t=<ms>;xxxx…`, PAYLOAD_BYTES long. */
export function encodePayload(sentAtMs: number): string {
  const head = `${PREFIX}${sentAtMs.toFixed(3)}${END}`;
  return head + (PADDING[PAYLOAD_BYTES - head.length] ?? "");
}

/** The send time in a payload string, or NaN if it is not one of ours. */
export function sentAtOfPayload(text: string): number {
  if (!text.startsWith(PREFIX)) return Number.NaN;
  const end = text.indexOf(END, PREFIX.length);
  return end < 0 ? Number.NaN : Number(text.slice(PREFIX.length, end));
}

const DATA_MARKER = Buffer.from(`"data":"${PREFIX}`);
const END_BYTE = END.charCodeAt(0);

/**
 * The send time in a frame's bytes: a GoMeet message frame (`…,"data":"t=…;xxx"}`) or a raw
 * payload. NaN for any other frame (presence, welcome).
 */
export function sentAtOfBytes(frame: Buffer, raw: boolean): number {
  let start: number;
  if (raw) {
    start = PREFIX.length;
  } else {
    const at = frame.indexOf(DATA_MARKER);
    if (at < 0) return Number.NaN;
    start = at + DATA_MARKER.length;
  }
  const end = frame.indexOf(END_BYTE, start);
  return end < 0 ? Number.NaN : Number(frame.toString("latin1", start, end));
}
