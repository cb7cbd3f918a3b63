// The model one agent turn talks to: the role's chain behind the router, with every attempt admitted
// by the budget gate first and logged as an event after.
import type { NewEvent } from '../../shared/events';
import type { Role, RunConfig } from '../../shared/model';
import { BudgetExceededError, type BudgetGate } from '../budget';
import type { CircuitBreakers } from './breakers';
import type { ResolvedModel } from './registry';
import { defaultOutputLimit, RoutedModel, type CallRecord } from './router';

export interface TurnModelOptions {
  chain: readonly ResolvedModel[];
  breakers: CircuitBreakers;
  timeouts: RunConfig['timeouts'];
  stepId: string;
  role: Role;
  taskId?: string;
  emit: (event: NewEvent) => void;
  /** Hard budgets; replays of finished runs go without. */
  budget?: BudgetGate;
  /** Called with the refusal before it propagates, so the run can pause or stop. */
  onBudgetBreach?: (error: BudgetExceededError) => void;
}

/** A RoutedModel for one turn. `settle()` releases what the turn still holds in the gate (call it when the turn ends). */
export function turnModel(options: TurnModelOptions): { model: RoutedModel; settle: () => void; answeredBy: () => string | undefined } {
  const { stepId, role, taskId, emit, budget } = options;
  // The router reports each admitted attempt once, in order, so reservations are released first in, first out.
  const reservations: number[] = [];
  let lastAnswer: string | undefined;
  const model = new RoutedModel({
    chain: options.chain.map((entry) => ({
      id: entry.id,
      provider: entry.provider,
      model: entry.model,
      price: entry.price,
      contextWindow: entry.spec.contextWindow,
      maxOutputTokens: entry.spec.maxOutputTokens ?? defaultOutputLimit(entry.spec.provider),
      breakerKey: entry.breakerKey,
    })),
    breakers: options.breakers,
    timeouts: options.timeouts,
    beforeCall: (estimate) => {
      if (!budget) return;
      try {
        reservations.push(budget.admit({ role, taskId }, { tokens: estimate.promptTokens + estimate.maxOutputTokens, usd: estimate.worstCaseUsd }));
      } catch (error) {
        if (error instanceof BudgetExceededError) options.onBudgetBreach?.(error);
        throw error;
      }
    },
    onCall: (record) => {
      if (record.outcome === 'ok') lastAnswer = record.modelId;
      const reservation = reservations.shift();
      // The reservation is held until the call's real cost is in the log, so a parallel call admitted
      // in between sees either the one or the other, never neither.
      try {
        emitCall(record);
      } finally {
        if (reservation !== undefined) budget?.release(reservation);
      }
    },
    onFallback: (notice) => emit({ type: 'model.fallback', stepId, taskId, role, from: notice.from, to: notice.to, reason: notice.reason }),
  });
  function emitCall(record: CallRecord): void {
    emit({
      type: 'llm.call',
      stepId,
      taskId,
      role,
      model: record.modelId,
      provider: record.provider,
      inputTokens: record.inputTokens,
      outputTokens: record.outputTokens,
      cachedInputTokens: record.cachedInputTokens,
      usd: record.usd ?? 0,
      priced: record.usd !== undefined,
      latencyMs: Math.round(record.latencyMs),
      outcome: record.outcome,
      error: record.error,
      fallbackFrom: record.fallbackFrom,
    });
  }
  return {
    model,
    settle: () => {
      for (const reservation of reservations.splice(0)) budget?.release(reservation);
    },
    answeredBy: () => lastAnswer,
  };
}
