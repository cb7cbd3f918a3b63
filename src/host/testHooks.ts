// Test-only hooks, read from SOFTWARE_MAKER_TEST_* environment variables. Each is inert unless its
// variable is set, and nothing but the end-to-end tests sets them (test/e2e/review.e2e.ts).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { WriteOutcome } from '../core';

/**
 * SOFTWARE_MAKER_TEST_HANG_AFTER_APPLY=<absolute marker file>: after the edit applier has written
 * files, it writes the marker (the outcomes as JSON) and never returns, so the engine never logs
 * `edit.applied`. The test then kills the editor: the crash window between an edit reaching the disk
 * and its event reaching the log. Once the marker exists the hook does nothing, so the run can resume.
 */
export const HANG_AFTER_APPLY_ENV = 'SOFTWARE_MAKER_TEST_HANG_AFTER_APPLY';

/** Called by the applier with the outcomes of a set; resolves at once unless the hook is armed. */
export async function afterApplyHook(outcomes: readonly WriteOutcome[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const marker = env[HANG_AFTER_APPLY_ENV];
  if (!marker || existsSync(marker) || !outcomes.some((outcome) => outcome.status === 'written')) return;
  await writeFile(marker, JSON.stringify({ pid: process.pid, outcomes }, null, 2));
  // Never settles: the extension host is killed while waiting here.
  await new Promise<never>(() => undefined);
}
