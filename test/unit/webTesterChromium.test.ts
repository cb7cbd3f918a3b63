// The web tester for real: the bundled sample app started by its dev-server command in a process
// group, headless Chromium (/usr/bin/chromium or what resolveBrowserExecutable finds) driven by
// playwright-core, screenshots checked to be real PNGs. Once through the engine, once through the CLI.
import { strict as assert } from 'node:assert';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { createServer as httpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NodeCommandRunner } from '../../src/core/commands/nodeCommandRunner';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import { resolveBrowserExecutable } from '../../src/core/web/browserPath';
import { PlaywrightBrowser } from '../../src/core/web/playwrightBrowser';
import type { EngineEvent } from '../../src/shared/events';
import type { WebFlow } from '../../src/shared/model';
import { foldEvents } from '../../src/shared/runState';
import { buildCli } from './builtCli';
import { makeEngine, ofType, REPO, runCli, scriptedConfig, tempDir, writeTranscript } from './helpers';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A PNG's signature and its IHDR size. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
  assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function portOpen(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/`).then(
    () => true,
    () => false,
  );
}

const passing: WebFlow = {
  name: 'signup greets by name',
  steps: [
    { action: 'goto', path: '/' },
    { action: 'expectText', text: 'Sign up', selector: 'h1' },
    { action: 'fill', selector: '#name', value: 'Ada <b>' },
    { action: 'fill', selector: '#email', value: 'ada@example.com' },
    { action: 'click', selector: 'button[type=submit]' },
    { action: 'expectText', text: 'Welcome, Ada <b>!', selector: '#welcome' },
    { action: 'screenshot', name: 'welcome' },
  ],
};

// The sample accepts a missing name (its known gap): a flow that asks for the error fails.
const failing: WebFlow = {
  name: 'a missing name is refused',
  steps: [
    { action: 'goto', path: '/' },
    { action: 'fill', selector: '#email', value: 'ada@example.com' },
    { action: 'click', selector: 'button[type=submit]' },
    { action: 'expectText', text: 'Please enter your name.', selector: '#error' },
  ],
};

function transcript(flows: WebFlow[]): TranscriptTurn[] {
  return [
    {
      role: 'planner',
      toolCalls: [
        {
          tool: 'finish',
          input: {
            summary: 'Check the signup form in a browser.',
            tasks: [{ id: 't1', title: 'Signup in a browser', description: 'Check the form.', role: 'web_tester', dependsOn: [], acceptance: ['the form greets the user'], files: ['test/**'] }],
          },
        },
      ],
    },
    { role: 'web_tester', task: 't1', toolCalls: [{ tool: 'read_file', input: { path: 'pages.js' } }] },
    { role: 'web_tester', task: 't1', expect: 'function renderWelcome', toolCalls: [{ tool: 'finish', input: { summary: 'Signup flows.', flows } }] },
  ];
}

async function webapp(): Promise<string> {
  const ws = await tempDir('sm-webapp-');
  await cp(join(REPO, 'samples/webapp'), ws, { recursive: true });
  return ws;
}

describe('web tester in real Chromium', function () {
  this.timeout(180_000);
  let browserPath = '';

  before(async () => {
    // Fails (not skips) without a browser: the web tester is only tested for real with one.
    browserPath = await resolveBrowserExecutable(process.env.SM_TEST_BROWSER);
  });

  it('engine: a passing and a failing flow against the sample app; real PNGs; the dev server is stopped', async () => {
    const ws = await webapp();
    const port = await freePort();
    const { engine, runsDir } = await makeEngine(ws, { browser: new PlaywrightBrowser(), commandRunner: new NodeCommandRunner(ws) });
    const script = await writeTranscript(await tempDir(), transcript([passing, failing]));
    const base = scriptedConfig(script);
    const config = scriptedConfig(script, {
      reviewGate: false,
      maxFixAttempts: 0,
      commands: { ...base.commands, allow: ['node server.js'] },
      webTester: { devServerCommand: `node server.js ${port}`, url: `http://127.0.0.1:${port}/`, readyTimeoutMs: 30_000, browserPath },
    });
    const final = await (await engine.startRun('Check signup in a browser', config)).finished;
    const task = final.tasks.t1!;
    assert.equal(task.status, 'dead_letter', task.statusReason);
    const [ok, bad] = task.webResults!.results;
    assert.equal(ok!.ok, true, ok!.error);
    assert.equal(bad!.ok, false);
    assert.match(bad!.error!, /step 4 \(expect "Please enter your name\." in #error\): "Please enter your name\." did not appear/);
    assert.equal(task.failureSignatures.at(-1), 'web:a missing name is refused#3');
    for (const shot of [...ok!.screenshots, ...bad!.screenshots]) {
      const size = pngSize(await readFile(join(runsDir, final.id, shot.artifact)));
      assert.deepEqual(size, { width: 1024, height: 720 }, shot.artifact);
    }
    assert.deepEqual(ok!.screenshots.map((shot) => shot.name), ['welcome']);
    assert.deepEqual(bad!.screenshots.map((shot) => shot.name), ['failure']);
    assert.equal(await portOpen(port), false, 'the dev server is gone');
  });

  it('blocks requests to any other origin than the app\'s', async () => {
    const other: string[] = [];
    const elsewhere = httpServer((request, response) => (other.push(request.url ?? ''), response.end('x')));
    const otherPort = await listen(elsewhere);
    const app = httpServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<p id="p">app</p><img src="http://127.0.0.1:${otherPort}/pixel.png"><script>fetch("http://127.0.0.1:${otherPort}/api").catch(() => { document.getElementById("p").textContent = "blocked"; });</script>`);
    });
    const appPort = await listen(app);
    const session = await new PlaywrightBrowser().launch({ executablePath: browserPath, allowedOrigin: `http://127.0.0.1:${appPort}/` });
    try {
      const page = await session.newPage();
      await page.goto(`http://127.0.0.1:${appPort}/`, 10_000);
      await page.waitForText('blocked', '#p', 10_000);
      await assert.rejects(page.goto(`http://127.0.0.1:${otherPort}/`, 10_000));
    } finally {
      await session.close();
      app.close();
      elsewhere.close();
    }
    assert.deepEqual(other, [], 'nothing reached the other origin');
  });

  it('CLI: a scripted run with --yes: the flow passes with a screenshot artifact; a failing flow fails the task and the run', async () => {
    const cli = await buildCli();
    const env = { XDG_STATE_HOME: await tempDir('sm-state-'), XDG_CONFIG_HOME: await tempDir('sm-config-'), NODE_PATH: join(REPO, 'node_modules') };
    const invoke = async (flows: WebFlow[]) => {
      const ws = await webapp();
      const port = await freePort();
      const script = await writeTranscript(await tempDir(), transcript(flows));
      const configFile = join(await tempDir(), 'config.json');
      await writeFile(
        configFile,
        JSON.stringify({
          commands: { allow: ['node server.js'] },
          webTester: { devServerCommand: `node server.js ${port}`, url: `http://127.0.0.1:${port}/`, readyTimeoutMs: 30_000, browserPath },
        }),
      );
      const args = ['run', 'Check signup in a browser', '--workspace', ws, '--model', `scripted:${script}`, '--config', configFile, '--yes', '--no-review-gate', '--max-fix-attempts', '0'];
      const result = await runCli(cli, args, { env });
      const runId = /Run (\S+):/.exec(result.stdout)?.[1];
      assert.ok(runId, result.stdout + result.stderr);
      const runDir = join(ws, '.software-maker', 'runs', runId);
      const events = (await readFile(join(runDir, 'events.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as EngineEvent);
      assert.equal(await portOpen(port), false, 'the dev server is gone');
      return { result, runDir, events, state: foldEvents(events)! };
    };

    const good = await invoke([passing]);
    assert.equal(good.result.code, 0, good.result.stdout + good.result.stderr);
    assert.match(good.result.stdout, /web flow "signup greets by name" passed \[1 screenshot\]/);
    assert.equal(good.state.tasks.t1!.status, 'done');
    const started = ofType(good.events, 'command.started');
    assert.deepEqual(started.map((event) => event.purpose), ['dev-server']);
    const shot = good.state.tasks.t1!.webResults!.results[0]!.screenshots[0]!;
    assert.ok(ofType(good.events, 'artifact.written').some((event) => event.name === shot.artifact));
    pngSize(await readFile(join(good.runDir, shot.artifact)));

    const bad = await invoke([failing]);
    assert.notEqual(bad.result.code, 0, bad.result.stdout);
    assert.match(bad.result.stdout, /web flow "a missing name is refused" failed: step 4/);
    assert.equal(bad.state.tasks.t1!.status, 'dead_letter');
  });
});
