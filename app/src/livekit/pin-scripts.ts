/**
 * The LiveKit room pin's Valkey script (lua/pin-deployment.lua). Arguments are named: the command
 * takes one object.
 */
import path from "node:path";
import { defineScript, type CommandParser } from "redis";
import { loadLuaScript } from "../valkey/lua";

/** This owner's .lua files: beside this module (src/…/lua from source, dist/…/lua in the image). */
export const LUA_DIR = path.join(__dirname, "lua");

/** Where a room is pinned after the call. */
export interface PinReply {
  /** The pinned deployment's name; '' when no deployment is healthy. */
  deployment: string;
  /** The previous pin when this call moved the room away from an unhealthy deployment. */
  movedFrom?: string;
}

export interface PinDeploymentArgs {
  /** The room's pin key (livekit/room-pins.ts). */
  pinKey: string;
  /** TTL (ms) of the pin, refreshed on every call. */
  ttlMs: number;
  /** Every configured deployment in configuration order, with its health. */
  order: ReadonlyArray<{ name: string; healthy: boolean }>;
}

/**
 * Pins the room to a LiveKit deployment: keeps the current pin while it is healthy; otherwise picks
 * the next healthy deployment after the current one in configuration order.
 */
const PIN_DEPLOYMENT = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: loadLuaScript("pin-deployment", LUA_DIR),
  parseCommand(parser: CommandParser, { pinKey, ttlMs, order }: PinDeploymentArgs) {
    parser.pushKey(pinKey);
    parser.push(String(ttlMs), String(order.length));
    for (const deployment of order) parser.push(deployment.name);
    for (const deployment of order) parser.push(deployment.healthy ? "1" : "0");
  },
  transformReply(reply: unknown): PinReply {
    const [deployment, previous] = (reply as unknown[]).map(String) as [string, string];
    return deployment !== "" && previous !== "" && previous !== deployment ? { deployment, movedFrom: previous } : { deployment };
  },
});

export const PIN_SCRIPTS = {
  pinDeployment: PIN_DEPLOYMENT,
};
