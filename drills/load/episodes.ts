/**
 * Client-observed outages. Each client (WebSocket client or HTTP stream) yields a time line of
 * successes (an acknowledged message, a successful request) and failures (a disconnect, a refused
 * connection, an error frame, a failed request, or a success that took longer than SLOW_MS).
 * An outage episode runs from the last success before a failure to the first success after it;
 * its length is how long that client went without service, as it saw it.
 */
import type { DrillClient } from "./ws-client";
import type { RequestSample } from "./http-load";

/** A success slower than this counts as a failure noticed SLOW_MS after the request was sent. */
export const SLOW_MS = 1000;

export interface Outcome {
  at: number;
  ok: boolean;
}

export interface Episode {
  source: string;
  start: number;
  /** undefined: never recovered before the observation ended. */
  end: number | undefined;
}

/** Episodes of one source; `observedFrom` is the start of an outage that began before any success. */
export function outageEpisodes(source: string, outcomes: readonly Outcome[], observedFrom: number): Episode[] {
  const sorted = [...outcomes].sort((a, b) => a.at - b.at);
  const episodes: Episode[] = [];
  let lastSuccess = observedFrom;
  let open: Episode | undefined;
  for (const outcome of sorted) {
    if (outcome.ok) {
      if (open !== undefined) {
        open.end = outcome.at;
        episodes.push(open);
        open = undefined;
      }
      lastSuccess = outcome.at;
    } else if (open === undefined) {
      open = { source, start: lastSuccess, end: undefined };
    }
  }
  if (open !== undefined) episodes.push(open);
  return episodes;
}

export function clientOutcomes(client: DrillClient): Outcome[] {
  const outcomes: Outcome[] = client.failures.map((f) => ({ at: f.at, ok: false }));
  for (const ack of client.acks) {
    if (ack.ackAt - ack.sentAt > SLOW_MS) outcomes.push({ at: ack.sentAt + SLOW_MS, ok: false });
    outcomes.push({ at: ack.ackAt, ok: true });
  }
  return outcomes;
}

export function requestOutcomes(samples: readonly RequestSample[]): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const sample of samples) {
    if (sample.ok && sample.end - sample.start > SLOW_MS) outcomes.push({ at: sample.start + SLOW_MS, ok: false });
    outcomes.push({ at: sample.end, ok: sample.ok });
  }
  return outcomes;
}

/** The longest episode that ended after `from` (an episode that never ended counts as infinitely long). */
export function longestEpisode(episodes: readonly Episode[], from: number): Episode | undefined {
  let longest: Episode | undefined;
  for (const episode of episodes) {
    if (episode.end === undefined) return episode;
    if (episode.end >= from && (longest === undefined || episode.end - episode.start > (longest.end as number) - longest.start))
      longest = episode;
  }
  return longest;
}

/** Length of an episode in ms: 0 without one, Infinity if it never ended. */
export function episodeLength(episode: Episode | undefined): number {
  if (episode === undefined) return 0;
  return episode.end === undefined ? Infinity : episode.end - episode.start;
}

/** The longest episode that ended after `from`, in ms; 0 without any; Infinity if one never ended. */
export function longestOutage(episodes: readonly Episode[], from: number): number {
  return episodeLength(longestEpisode(episodes, from));
}
