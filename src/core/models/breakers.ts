// Circuit breakers: one per endpoint, shared by every agent turn of an engine, so a provider that
// keeps failing is skipped for a cool-down instead of being asked (and waited for) on every call.
import { redactText } from '../log/redact';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerChange {
  key: string;
  state: BreakerState;
  reason: string;
  /** While open: when the cool-down ends (epoch ms of the breakers' clock). */
  until?: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a breaker. */
  failureThreshold?: number;
  /** How long an open breaker skips its endpoint before letting one call try again. */
  coolDownMs?: number;
  /** Clock in epoch ms, injectable for tests. */
  now?: () => number;
  onChange?: (change: BreakerChange) => void;
}

export type BreakerGate = { allowed: true } | { allowed: false; until: number; state: 'open' | 'half-open' };

interface BreakerEntry {
  state: BreakerState;
  failures: number;
  until: number;
  probeInFlight: boolean;
}

/**
 * One breaker per endpoint, shared by all agent turns of an engine: after `failureThreshold`
 * consecutive failures the endpoint is skipped for `coolDownMs`; then one call may try it
 * (half-open) — success closes the breaker, failure opens it for another cool-down.
 */
export class CircuitBreakers {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, BreakerEntry>();
  private readonly listeners: ((change: BreakerChange) => void)[] = [];

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 3;
    this.coolDownMs = options.coolDownMs ?? 30_000;
    this.now = options.now ?? Date.now;
    if (options.onChange) this.listeners.push(options.onChange);
  }

  /** Adds a state-change listener; returns a function that removes it. */
  onChange(listener: (change: BreakerChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  state(key: string): BreakerState {
    return this.entries.get(key)?.state ?? 'closed';
  }

  /**
   * Asks whether a call may go to `key` now. An allowed call must end in exactly one of
   * recordSuccess, recordFailure or release.
   */
  tryAcquire(key: string): BreakerGate {
    const entry = this.entries.get(key);
    if (!entry || entry.state === 'closed') return { allowed: true };
    if (entry.state === 'open') {
      if (this.now() < entry.until) return { allowed: false, until: entry.until, state: 'open' };
      entry.state = 'half-open';
      entry.probeInFlight = false;
      this.emit({ key, state: 'half-open', reason: `cool-down over; letting one call try ${key}` });
    }
    if (entry.probeInFlight) return { allowed: false, until: entry.until, state: 'half-open' };
    entry.probeInFlight = true;
    return { allowed: true };
  }

  recordSuccess(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    const wasOpen = entry.state !== 'closed';
    this.entries.delete(key);
    if (wasOpen) this.emit({ key, state: 'closed', reason: `${key} answered again` });
  }

  recordFailure(key: string, reason: string): void {
    const entry = this.entries.get(key) ?? { state: 'closed' as BreakerState, failures: 0, until: 0, probeInFlight: false };
    this.entries.set(key, entry);
    entry.failures++;
    entry.probeInFlight = false;
    const trialFailed = entry.state === 'half-open';
    if (trialFailed || (entry.state === 'closed' && entry.failures >= this.failureThreshold)) {
      entry.state = 'open';
      entry.until = this.now() + this.coolDownMs;
      const why = trialFailed ? 'the trial call after the cool-down failed' : `${entry.failures} failures in a row`;
      this.emit({ key, state: 'open', reason: `${why}, last: ${redactText(reason)}`, until: entry.until });
    }
  }

  /** Ends an allowed call that said nothing about the endpoint's health (aborted, refused by beforeCall). */
  release(key: string): void {
    const entry = this.entries.get(key);
    if (entry) entry.probeInFlight = false;
  }

  private emit(change: BreakerChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }
}

