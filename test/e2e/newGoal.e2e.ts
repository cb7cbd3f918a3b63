// End to end in a real VS Code (code-server 4.117.0) driven by Playwright in Debian's Chromium:
// install the packaged VSIX, open a copy of samples/calculator (one failing test), run
// "Software Maker: New Goal" with the scripted model, accept the 3 proposed edits in their diff
// editors, and check that the run completes, the tests ran as a task, the fix is on disk, `node --test`
// passes and the panel shows the completed plan.
//
//   npx mocha --import=tsx --timeout 900000 test/e2e/newGoal.e2e.ts
//
// Env (for development): SM_E2E_VSIX, SM_E2E_SAMPLE, SM_E2E_TRANSCRIPT override the packaged VSIX,
// the sample workspace and its recorded transcript. Screenshots: test-results/e2e/NN-step.png.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from '../harness/codeServer';
import {
  CALCULATOR_SAMPLE,
  CALCULATOR_TRANSCRIPT,
  RUN_TIMEOUT,
  STATUS_ITEM,
  STEP_TIMEOUT,
  expectDagDone,
  expectExtensionLoaded,
  nodeTest,
  openPanel,
  scriptedModel,
  trustWorkspaceSettingsIfAsked,
  useScenario,
} from '../harness/scenario';
import {
  SELECTORS,
  answerInputBox,
  expectVisible,
  openWorkbench,
  pageRunProgress,
  runCommand,
  runEndedOtherwise,
  statusBarText,
  terminalNames,
  toastTexts,
  waitForStatusBarText,
  waitUntil,
} from '../harness/workbench';

const GOAL = 'Fix the failing calculator tests';
const EXPECTED_TASKS = 3;

/** Task titles of the recorded plan, when the transcript holds them (a JSON object or JSON text). */
function plannedTaskTitles(transcriptFile: string): string[] {
  const found = new Map<string, string>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 40 || value === null) return;
    if (typeof value === 'string') {
      const trimmed = value.trim();
      if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && /"t\d+"/.test(trimmed)) {
        try {
          visit(JSON.parse(trimmed), depth + 1);
        } catch {
          // not JSON text
        }
      }
      return;
    }
    if (typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    const record = value as Record<string, unknown>;
    if (typeof record.id === 'string' && /^t\d+$/.test(record.id) && typeof record.title === 'string' && !found.has(record.id)) {
      found.set(record.id, record.title);
    }
    for (const child of Object.values(record)) visit(child, depth + 1);
  };
  try {
    visit(JSON.parse(readFileSync(transcriptFile, 'utf8')), 0);
  } catch {
    return [];
  }
  return [...found.values()];
}

/** A terminal named after a "Software Maker …" task is shown in the panel. */
async function taskTerminalShown(page: Page): Promise<boolean> {
  return (await page.locator(SELECTORS.panel).isVisible()) && (await terminalNames(page)).some((name) => name.startsWith('Software Maker'));
}

/**
 * The diff editors on screen, each identified by its two documents (`original <-> modified`, from the
 * editors' data-uri), so a proposal already accepted is not accepted twice.
 */
async function visibleDiffs(page: Page): Promise<string[]> {
  return page.locator(SELECTORS.diffEditor).evaluateAll((diffs) =>
    diffs
      .filter((diff) => (diff as HTMLElement).offsetParent !== null)
      // No named helper functions in here: tsx's __name() wrapper does not exist in the page.
      .map((diff) =>
        ['original', 'modified']
          .map((side) => diff.querySelector(`.editor.${side} .monaco-editor`)?.getAttribute('data-uri') ?? '?')
          .join(' <-> '),
      ),
  );
}

describe('Software Maker end to end: New Goal on the calculator sample', function () {
  this.timeout(15 * 60_000);

  const e2e = useScenario({
    artifactsDir: path.join(repoRoot, 'test-results', 'e2e'),
    inputs: [
      ['the calculator sample', CALCULATOR_SAMPLE, 'samples/calculator'],
      ['the recorded transcript', CALCULATOR_TRANSCRIPT, 'samples/transcripts/calculator.json'],
    ],
    workspaces: {
      calculator: { from: CALCULATOR_SAMPLE, settings: { 'softwareMaker.models': [scriptedModel(CALCULATOR_TRANSCRIPT)], 'softwareMaker.autoApprove': false } },
    },
  });
  const acceptedProposals: string[] = [];
  let sawTestTask = false;

  it('the sample test suite fails before the run', () => {
    const result = nodeTest(e2e.workspaces.calculator);
    assert.notEqual(result.status, 0, `Expected \`node --test\` to fail in the fresh calculator copy (the planted bug), but it passed:\n${result.output}`);
  });

  it('opens the workbench with the Software Maker activity-bar entry', async () => {
    const { page, shots } = e2e;
    await openWorkbench(page, e2e.server.workbenchUrl(e2e.workspaces.calculator));
    await shots.take('workbench-loaded');
    await expectExtensionLoaded(page);
    await shots.take('activity-bar');
  });

  it('starts a run from "Software Maker: New Goal" and shows its tasks in the tree', async () => {
    const { page, shots } = e2e;
    await runCommand(page, 'Software Maker: New Goal');
    await shots.take('palette-new-goal');
    await answerInputBox(page, GOAL, 'the goal');
    await shots.take('goal-entered');
    // The model comes from the workspace's own .vscode/settings.json: the first goal shows it and asks.
    const asked = await trustWorkspaceSettingsIfAsked(page, undefined);
    assert.ok(asked, 'the first goal asked to trust the workspace settings');
    assert.match(asked, /model "scripted": scripted transcript .*calculator\.json/, 'the dialog shows the transcript the workspace names');
    await shots.take('workspace-settings-trusted');

    await page.locator(`${SELECTORS.activityBar} [aria-label^="Software Maker"]`).first().click();
    const rows = page.locator(SELECTORS.sidebarRows);
    const titles = plannedTaskTitles(CALCULATOR_TRANSCRIPT);
    await waitUntil(
      async () => {
        // Expand collapsed rows (a run row holding its tasks) so the task rows are rendered.
        const collapsed = page.locator('.part.sidebar .monaco-list-row[aria-expanded="false"]');
        if ((await collapsed.count()) > 0) await collapsed.first().click();
        const texts = await rows.allInnerTexts();
        const enough = titles.length >= EXPECTED_TASKS
          ? titles.every((title) => texts.some((text) => text.includes(title)))
          : texts.length >= EXPECTED_TASKS;
        return enough ? texts : undefined;
      },
      titles.length >= EXPECTED_TASKS
        ? `the Software Maker tree to list the planned tasks ${JSON.stringify(titles)}`
        : `the Software Maker tree to list at least ${EXPECTED_TASKS} rows (one per planned task)`,
      { timeout: STEP_TIMEOUT, progress: pageRunProgress(page), observe: async () => `rows ${JSON.stringify(await rows.allInnerTexts())}; notifications ${JSON.stringify(await toastTexts(page))}` },
    );
    await shots.take('task-rows');
  });

  it(`reviews and accepts ${EXPECTED_TASKS} proposed edits in diff editors`, async () => {
    const { page, shots } = e2e;
    while (acceptedProposals.length < EXPECTED_TASKS) {
      const n = acceptedProposals.length + 1;
      // A proposal we have not accepted yet, shown as a diff (identified by its modified-side document).
      const proposal = await waitUntil(
        async () => {
          // A diff whose editors have no document yet (still rendering) is not identified: wait for both.
          const shown = (await visibleDiffs(page)).filter((id) => id.split(' <-> ').every((side) => side !== '?'));
          return shown.find((id) => !acceptedProposals.includes(id));
        },
        `a diff editor (.monaco-diff-editor) showing proposal ${n} of ${EXPECTED_TASKS}`,
        {
          timeout: STEP_TIMEOUT,
          progress: pageRunProgress(page),
          hopeless: runEndedOtherwise(page, 'completed'),
          observe: async () =>
            `accepted so far ${acceptedProposals.length}; tabs ${JSON.stringify(await page.locator(SELECTORS.editorTabs).allInnerTexts())}; ` +
            `status "${await statusBarText(page, STATUS_ITEM)}"; notifications ${JSON.stringify(await toastTexts(page))}`,
        },
      );
      // Let the diff render its lines before the screenshot (cosmetic; the proposal is already identified).
      await page.locator(`${SELECTORS.diffEditor} .editor.modified .view-line`).first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
      await shots.take(`proposal-${n}-diff`);

      const acceptButton = page.locator('.part.editor .editor-actions .action-label[aria-label*="Accept Proposed Edit"]');
      const viaButton = await acceptButton
        .first()
        .waitFor({ state: 'visible', timeout: 15_000 })
        .then(() => true, () => false);
      if (viaButton) await acceptButton.first().click();
      else await runCommand(page, 'Software Maker: Accept Proposed Edit');
      acceptedProposals.push(proposal);
      console.log(`      accepted proposal ${n} via the ${viaButton ? 'diff title-bar button' : 'command palette'}: ${proposal}`);

      await waitUntil(
        async () => {
          return (await visibleDiffs(page)).includes(proposal) ? undefined : true;
        },
        `the accepted proposal ${n} (${proposal}) to leave the editor after Accept (${viaButton ? 'title-bar button' : 'palette command'})`,
        { timeout: STEP_TIMEOUT, progress: pageRunProgress(page), observe: async () => `notifications ${JSON.stringify(await toastTexts(page))}` },
      );
      await shots.take(`proposal-${n}-accepted`);

      if (!sawTestTask && (await taskTerminalShown(page))) {
        // Tests run as a VS Code task: its terminal is in the panel (seen while the run is still going).
        sawTestTask = true;
        await shots.take('test-task-terminal');
      }
    }
  });

  it('runs the tests as a VS Code task shown in the terminal panel', async () => {
    const { page, shots } = e2e;
    if (!sawTestTask) {
      await waitUntil(async () => ((await taskTerminalShown(page)) ? true : undefined), 'a terminal of a "Software Maker …" test task in the panel', {
        timeout: STEP_TIMEOUT,
        progress: pageRunProgress(page),
        observe: async () => `panel visible=${await page.locator(SELECTORS.panel).isVisible()}; terminals ${JSON.stringify(await terminalNames(page))}`,
      });
      await shots.take('test-task-terminal');
    }
  });

  it('reports the run completed in the status bar', async () => {
    await waitForStatusBarText(e2e.page, STATUS_ITEM, 'completed', { timeout: RUN_TIMEOUT });
    await e2e.shots.take('status-completed');
  });

  it('wrote the fix to disk and `node --test` passes', async () => {
    const workspace = e2e.workspaces.calculator;
    const before = await readFile(path.join(CALCULATOR_SAMPLE, 'src', 'calc.js'), 'utf8');
    const after = await readFile(path.join(workspace, 'src', 'calc.js'), 'utf8');
    assert.notEqual(after, before, 'Expected src/calc.js in the workspace to differ from the sample after the accepted edits');
    const result = nodeTest(workspace);
    assert.equal(result.status, 0, `Expected \`node --test\` to pass in the workspace after the run:\n${result.output}`);
  });

  it('shows the completed plan in the Software Maker panel', async () => {
    const frame = await openPanel(e2e.page, '#plan-dag', 'the panel webview with its plan DAG (#plan-dag)');
    await expectVisible(frame.locator('#run-status[data-status="completed"]'), 'the panel run status #run-status[data-status="completed"]', STEP_TIMEOUT);
    const statuses = await expectDagDone(frame, EXPECTED_TASKS);
    await e2e.shots.take('panel-completed');
    assert.equal(statuses.length, EXPECTED_TASKS);
  });
});
