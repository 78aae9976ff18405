/** Pods a rolling update adds before it removes one (maxUnavailable is 0): config-limits.ts leaves a node for it. */
export const ROLLING_UPDATE_MAX_SURGE = 1;
