// The run the panel benchmarks open (bench/readingCosts.ts for the node side, bench/webviewFirstRender.ts
// in Chromium): issue 11's 10,000 events and 200-node plan.
import type { EngineEvent } from '../src/shared/events';
import { RunLogBuilder, TEST_CONFIG } from '../test/unit/fixtures/webviewRun';

/** A 200-task plan in ranks of 10 and tool, model and agent-text traffic up to `total` events. */
export function largePanelRun(total: number): EngineEvent[] {
  const log = new RunLogBuilder('run-panel');
  log.add({ type: 'run.created', goal: 'A large plan', workspace: '/work/ws', config: TEST_CONFIG });
  log.add({ type: 'run.status', status: 'planning' });
  const tasks = Array.from({ length: 200 }, (_, i) => ({ id: `t${i}`, title: `Task ${i}`, description: 'd', role: 'implementer' as const, dependsOn: i < 10 ? [] : i % 3 ? [`t${i - 10}`] : [`t${i - 10}`, `t${i - 7}`], acceptance: ['a'], files: [`src/f${i}.ts`] }));
  log.add({ type: 'plan.accepted', plan: { summary: 'Two hundred tasks.', tasks }, repairs: 0 });
  log.add({ type: 'run.status', status: 'running' });
  for (let i = 0; log.events.length < total; i++) {
    const taskId = `t${i % 200}`;
    const stepId = `${taskId}:implement@v${1 + Math.floor(i / 200)}`;
    if (i < 200) log.task(taskId, 'ready', 'running');
    log.add({ type: 'step.started', stepId, taskId, role: 'implementer', attempt: 1 + Math.floor(i / 200), model: 'scripted' });
    log.add({ type: 'agent.text', stepId, taskId, role: 'implementer', text: `I will **change** \`src/f${i}.ts\`:\n\n- read it\n- edit it\n\n\`\`\`ts\nexport const x = ${i};\n\`\`\`` });
    for (let c = 0; c < 3; c++) {
      log.add({ type: 'llm.call', stepId, taskId, role: 'implementer', model: 'scripted', provider: 'scripted', inputTokens: 1800, outputTokens: 300, cachedInputTokens: 0, usd: 0.004, latencyMs: 700, outcome: 'ok' });
      log.add({ type: 'tool.call', stepId, taskId, toolCallId: `${stepId}-${c}`, tool: 'read_file', input: `{"path":"src/f${i}.ts"}` });
      log.add({ type: 'tool.result', stepId, taskId, toolCallId: `${stepId}-${c}`, tool: 'read_file', ok: true, output: `export const x = ${i};` });
    }
    log.add({ type: 'step.finished', stepId, taskId, role: 'implementer', ok: true, summary: `Step ${stepId} done` });
  }
  return log.events.slice(0, total);
}
