// What the "Software Maker" output channel says about the model layer: fallbacks, circuit breakers,
// budget breaches, loops and failed calls (warnings), every call at debug level, in the shared
// wording (src/shared/wording.ts). Lines are built from events, which never hold keys; redactText
// runs over them anyway, so an endpoint that echoes a key in an error message cannot put it in the
// output. No vscode import (unit-tested in plain Node).
import { redactText } from '../../core';
import type { EngineEvent, EventType } from '../../shared/events';
import { describeEvent, type EventLine } from '../../shared/wording';

export type OutputLine = EventLine;

/** The sink the lines go to: a LogOutputChannel, or a recorder in tests. */
export type OutputSink = Record<OutputLine['level'], (message: string) => void>;

const MODEL_LAYER_EVENTS: ReadonlySet<EventType> = new Set<EventType>(['model.fallback', 'breaker.changed', 'budget.exceeded', 'run.budgetsChanged', 'loop.detected', 'llm.call']);

/** The output line for a model-layer event, or undefined for events this module does not report. */
export function modelEventLine(runId: string, event: EngineEvent): OutputLine | undefined {
  if (!MODEL_LAYER_EVENTS.has(event.type)) return undefined;
  const { level, text } = describeEvent(event, { withTask: true });
  return { level, text: `[${runId}] ${text}` };
}

/** Writes the line for `event` (if any) to `sink`, redacted. */
export function logModelEvent(sink: OutputSink, runId: string, event: EngineEvent): void {
  const line = modelEventLine(runId, event);
  if (line) sink[line.level](redactText(line.text));
}
