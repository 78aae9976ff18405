/**
 * Every Lua script the instance registers on its Valkey command connection, by command name. Each owner
 * defines its scripts next to its code (<owner>/*-scripts.ts, <owner>/lua/<kebab-name>.lua); the connection
 * layer (valkey/) knows none of them. A new script is added to its owner's set; a new owner is added here.
 */
import { PIN_SCRIPTS } from "../livekit/pin-scripts";
import { PRESENCE_SCRIPTS } from "../realtime/presence-scripts";
import { ROOM_LOG_SCRIPTS } from "../realtime/room-log-scripts";

export const VALKEY_SCRIPTS = { ...ROOM_LOG_SCRIPTS, ...PRESENCE_SCRIPTS, ...PIN_SCRIPTS };

export type ValkeyScripts = typeof VALKEY_SCRIPTS;
