// What the "Software Maker" output channel says about the model layer: fallbacks, circuit breakers,
// budget breaches and failed calls (warnings), every call at debug level. Lines are built from
// events, which never hold keys; redactText runs over them anyway, so an endpoint that echoes a key
// in an error message cannot put it in the output. No vscode import (unit-tested in plain Node).
import { redactText } from '../../core/log/redact';
import { formatUsd } from '../../core/models/prices';
import type { EngineEvent } from '../../shared/events';

export interface OutputLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  text: string;
}

/** The sink the lines go to: a LogOutputChannel, or a recorder in tests. */
export type OutputSink = Record<OutputLine['level'], (message: string) => void>;

/** The output line for a model-layer event, or undefined for events this module does not report. */
export function modelEventLine(runId: string, event: EngineEvent): OutputLine | undefined {
  const where = (taskId: string | undefined, role: string): string => `[${runId}]${taskId ? ` ${taskId}` : ''} ${role}:`;
  switch (event.type) {
    case 'model.fallback':
      return { level: 'warn', text: `${where(event.taskId, event.role)} model "${event.from}" failed (${event.reason}); falling over to "${event.to}".` };
    case 'breaker.changed':
      return event.state === 'open'
        ? { level: 'warn', text: `[${runId}] circuit breaker for ${event.key} opened: ${event.reason}. Calls skip it${event.until ? ` until ${new Date(event.until).toLocaleTimeString()}` : ''}, then one call tries it again.` }
        : { level: 'info', text: `[${runId}] circuit breaker for ${event.key} closed: ${event.reason}.` };
    case 'budget.exceeded': {
      const amount = (value: number): string =>
        !Number.isFinite(value) ? 'an unknown amount (the model has no price)' : event.metric === 'usd' ? formatUsd(value) : `${Math.round(value).toLocaleString('en-US')} tokens`;
      const cap = event.scope === 'run' ? 'run' : event.scope === 'task' ? `task ${event.key}` : `role ${event.key}`;
      return {
        level: 'warn',
        text: `[${runId}] budget reached: the ${cap} ${event.metric === 'usd' ? 'USD' : 'token'} cap is ${amount(event.limit)}, ${amount(event.used)} used, and the next ${event.role} call may need up to ${amount(event.estimate)}. The run ${event.action === 'stop' ? 'stops' : 'pauses: raise the cap ("Software Maker: Raise Budget and Resume") to go on'}.`,
      };
    }
    case 'run.budgetsChanged':
      return { level: 'info', text: `[${runId}] budgets changed: ${JSON.stringify(event.budgets)}` };
    case 'loop.detected':
      return { level: 'warn', text: `[${runId}]${event.taskId ? ` ${event.taskId}` : ''} loop detected (${event.kind}, ${event.count} times): ${event.detail}` };
    case 'llm.call': {
      const cost = event.priced === false ? 'unknown cost' : formatUsd(event.usd);
      const via = event.fallbackFrom ? ` (fallback from "${event.fallbackFrom}")` : '';
      const figures = `${event.inputTokens} in / ${event.outputTokens} out tokens, ${cost}, ${(event.latencyMs / 1000).toFixed(1)} s`;
      if (event.outcome === 'ok') return { level: 'debug', text: `${where(event.taskId, event.role)} ${event.model} (${event.provider})${via}: ${figures}` };
      if (event.outcome === 'aborted') return { level: 'debug', text: `${where(event.taskId, event.role)} ${event.model} call aborted after ${(event.latencyMs / 1000).toFixed(1)} s` };
      return { level: 'warn', text: `${where(event.taskId, event.role)} ${event.model} (${event.provider})${via} failed after ${(event.latencyMs / 1000).toFixed(1)} s: ${event.error ?? 'unknown error'}` };
    }
    default:
      return undefined;
  }
}

/** Writes the line for `event` (if any) to `sink`, redacted. */
export function logModelEvent(sink: OutputSink, runId: string, event: EngineEvent): void {
  const line = modelEventLine(runId, event);
  if (line) sink[line.level](redactText(line.text));
}
