// What of a run's log the panel gets at once (the snapshot's activeLog, run/open's log); the rest
// follows with run/log once the webview has drawn. Here, not in the host, so the panel's benchmark
// and browser tests send what the host sends.
import type { EngineEvent } from './events';
import type { RunState } from './runState';

/**
 * How many of a run's newest events go with the engine's folded state. Taking a 10,000-event log in
 * (decoding it, the chat's pass over it) was a third of the panel's first frame, and it grows with
 * the log; the first frame shows the newest events and the latest chat messages only: a screen of
 * log rows and the chat's first dozen messages (300 events held 26 in the bench's run; sending
 * 1,000 made its first frame ~15 ms slower: more to decode, to go over for the chat, to collect).
 */
export const LOG_TAIL_EVENTS = 300;

/**
 * The part of a run's whole log to send now: with the folded state, its newest events, from no later
 * than the first the state lacks (the webview folds those); without it (or with a state the log does
 * not reach), all of it, which the webview folds itself.
 */
export function logToSend(events: EngineEvent[], state: RunState | undefined): EngineEvent[] {
  if (!state || state.lastSeq > events.length || events.length <= LOG_TAIL_EVENTS) return events;
  return events.slice(Math.min(events.length - LOG_TAIL_EVENTS, state.lastSeq));
}
