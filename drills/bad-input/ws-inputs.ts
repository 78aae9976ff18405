/**
 * Malformed WebSocket inputs for the bad-input drill, generated from a seed: upgrade requests and frames. None of
 * them is acceptable to a correct server: the generators leave out the combinations that would be valid (a
 * well-formed frame, a good token in a good upgrade), so any accepted upgrade or published message is a finding.
 */
import type { BadTokens } from "./bad-tokens";
import { cycle, hostileRoomId, INVALID_JSON } from "./hostile-values";
import type { Random } from "./random";

export interface UpgradeInput {
  category: string;
  /** Path and query, percent-encoded. */
  path: string;
}

export interface FrameInput {
  category: string;
  data: string | Buffer;
  binary: boolean;
  /** The close code the server must answer with (the frame ends the connection); undefined: an error frame, socket stays open. */
  closes?: number;
}

const PRINTABLE = " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";

/** One refused WebSocket upgrade request; `room` is a real room, `token` a valid token. */
export function upgradeInput(rng: Random, i: number, room: string, token: string, tokens: BadTokens): UpgradeInput {
  const query = (params: Record<string, string | undefined>): string => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, value);
    return search.toString();
  };
  const round = Math.floor(i / 5);
  switch (i % 5) {
    case 0:
      return { category: "ws hostile room id", path: `/ws?${query({ room: hostileRoomId(rng, round), access_token: token })}` };
    case 1: {
      const bad = cycle(tokens.list, round);
      return { category: `ws token: ${bad.label}`, path: `/ws?${query({ room, access_token: bad.token })}` };
    }
    case 2:
      return { category: "ws token: missing", path: `/ws?${query({ room, access_token: cycle([undefined, ""], round) })}` };
    case 3: {
      const since = cycle(["abc", "-1", "1.5", "1e3", "", "0x10", "9".repeat(16), "9".repeat(40), " 1", "NaN", "Infinity", "1,2"], round);
      return { category: "ws invalid since", path: `/ws?${query({ room, access_token: token, since })}` };
    }
    default:
      return {
        category: "ws missing room or bad path",
        path: cycle(
          [
            `/ws?${query({ access_token: token })}`,
            `/ws/x?${query({ room, access_token: token })}`,
            `/wss?${query({ room, access_token: token })}`,
            `/ws?${query({ room: "", access_token: token })}`,
          ],
          round,
        ),
      };
  }
}

/** Whether `text` is a frame the server must accept ({type: "message", data}); generators never send one. */
export function isValidClientFrame(text: string): boolean {
  try {
    const value = JSON.parse(text) as unknown;
    return (
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      (value as { type?: unknown }).type === "message" &&
      "data" in value
    );
  } catch {
    return false;
  }
}

/** Well-formed JSON that is not a client frame (type must be "message", data is required). */
const WRONG_SHAPES: string[] = [
  ...[
    42,
    "message",
    null,
    true,
    [],
    [{ type: "message", data: 1 }],
    {},
    { type: "message" },
    { type: "Message", data: 1 },
    { type: "MESSAGE", data: 1 },
    { type: 1, data: 1 },
    { type: null, data: 1 },
    { type: ["message"], data: 1 },
    { type: { toString: "message" }, data: 1 },
    { data: "no type" },
    { type: "join", room: "x" },
    { type: "presence", event: "join" },
    { type: "welcome", seq: 1 },
  ].map((value) => JSON.stringify(value)),
  '{"__proto__":{"type":"message","data":1}}',
  '{"constructor":{"prototype":{"type":"message","data":1}}}',
  '{"type":"message\u0000","data":1}',
  '{"type":"message "}',
];

/** One malformed frame. */
function frameCandidate(rng: Random, i: number, maxFrameBytes: number): FrameInput {
  const round = Math.floor(i / 8);
  switch (i % 8) {
    case 0:
      return { category: "ws binary random bytes", data: rng.bytes(1 + rng.int(2000)), binary: true };
    case 1:
      return { category: "ws text garbage", data: `~${rng.string(rng.int(500), PRINTABLE)}`, binary: false };
    case 2:
      return { category: "ws invalid JSON", data: cycle(INVALID_JSON, round), binary: false };
    case 3:
    case 4:
      return { category: "ws wrong shape", data: cycle(WRONG_SHAPES, round * 2 + (i % 8) - 3), binary: false };
    case 5: {
      const depth = 100 + rng.int(Math.floor(maxFrameBytes / 2) - 200);
      return { category: "ws deep nesting", data: `${"[".repeat(depth)}${"]".repeat(depth)}`, binary: false };
    }
    case 6: {
      // Not UTF-8: the WebSocket protocol requires text frames to be; the server closes with 1007.
      const bytes = Buffer.concat([
        Buffer.from('{"type":"message","data":"'),
        Buffer.from([0xff, 0xfe, 0xc0, 0x80, rng.int(256) | 0x80]),
        Buffer.from('"}'),
      ]);
      return { category: "ws invalid UTF-8 text", data: bytes, binary: false, closes: 1007 };
    }
    default: {
      const size = maxFrameBytes + 1 + rng.int(4 * maxFrameBytes);
      return { category: "ws oversized frame", data: `{"type":"message","data":"${"x".repeat(size)}"}`, binary: false, closes: 1009 };
    }
  }
}

export function frameInput(rng: Random, i: number, maxFrameBytes: number): FrameInput {
  const frame = frameCandidate(rng, i, maxFrameBytes);
  if (!frame.binary && frame.closes === undefined && isValidClientFrame(frame.data.toString())) {
    throw new Error(`frameInput: generated a valid client frame (${frame.category}): ${frame.data.toString().slice(0, 100)}`);
  }
  return frame;
}
