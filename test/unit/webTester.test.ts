import { strict as assert } from 'node:assert';
import { cp, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TranscriptTurn } from '../../src/core/models/scripted';
import type { BackgroundCommand, Browser, BrowserLaunchOptions, BrowserPage, BrowserSession, CommandRequest, CommandResult, CommandRunner } from '../../src/core/ports';
import { BrowserNotFoundError, resolveBrowserExecutable } from '../../src/core/web/browserPath';
import { runFlows, urlWithin, webFailureSignature, webFlowsSchema } from '../../src/core/web/flows';
import type { WebFlow } from '../../src/shared/model';
import { foldEvents } from '../../src/shared/runState';
import { makeEngine, ofType, REPO, scriptedConfig, tempDir, writeTranscript } from './helpers';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

/**
 * A browser over a scripted site: each path shows fixed texts; clicking `#submit` goes to
 * `submitTo`, whose texts may depend on what was filled. Records every call.
 */
class FakeBrowser implements Browser {
  readonly calls: string[] = [];
  launches: BrowserLaunchOptions[] = [];
  closed = 0;
  constructor(private readonly site: { pages: Record<string, (fields: Record<string, string>) => string>; submitTo: string }) {}

  async launch(options: BrowserLaunchOptions): Promise<BrowserSession> {
    this.launches.push(options);
    return { newPage: async () => this.page(options.allowedOrigin), close: async () => void this.closed++ };
  }

  private page(origin: string): BrowserPage {
    const fields: Record<string, string> = {};
    let url = 'about:blank';
    const text = (): string => this.site.pages[new URL(url).pathname]?.(fields) ?? '';
    return {
      goto: async (target) => {
        this.calls.push(`goto ${target}`);
        assert.equal(new URL(target).origin, new URL(origin).origin);
        url = target;
      },
      fill: async (selector, value) => {
        this.calls.push(`fill ${selector}`);
        fields[selector] = value;
      },
      click: async (selector) => {
        this.calls.push(`click ${selector}`);
        if (selector !== '#submit') throw new Error(`locator ${selector} not found`);
        url = new URL(this.site.submitTo, url).href;
      },
      waitForText: async (wanted) => {
        if (!text().includes(wanted)) throw new Error(`Timeout 10000ms exceeded.\nwaiting for locator`);
      },
      readText: async () => text(),
      screenshot: async () => PNG,
      url: () => url,
    };
  }
}

const SITE = {
  pages: { '/': () => 'Sign up', '/signup': (fields: Record<string, string>) => `Welcome, ${fields['#name'] ?? ''}!` },
  submitTo: '/signup',
};

const signupFlow = (expected: string): WebFlow => ({
  name: `signup shows ${expected}`,
  steps: [
    { action: 'goto', path: '/' },
    { action: 'fill', selector: '#name', value: 'Ada' },
    { action: 'click', selector: '#submit' },
    { action: 'expectText', text: expected, selector: '#welcome' },
  ],
});

/** A command runner that starts nothing: the "server" is up at once and records being stopped. */
class FakeCommandRunner implements CommandRunner {
  readonly started: CommandRequest[] = [];
  stopped = 0;
  async run(): Promise<CommandResult> {
    throw new Error('not used');
  }
  async start(request: CommandRequest): Promise<BackgroundCommand> {
    this.started.push(request);
    let exit!: (result: CommandResult) => void;
    const exited = new Promise<CommandResult>((resolve) => (exit = resolve));
    return {
      output: () => 'listening',
      exited,
      stop: async () => {
        this.stopped++;
        exit({ exitCode: null, signal: 'SIGTERM', output: 'listening', truncated: false, durationMs: 5, timedOut: false });
      },
    };
  }
}

describe('web tester: browser resolution', () => {
  it('uses the configured executable, and names the setting when it is missing', async () => {
    assert.equal(await resolveBrowserExecutable('/opt/x/chrome', { exists: async (path) => path === '/opt/x/chrome' }), '/opt/x/chrome');
    await assert.rejects(resolveBrowserExecutable('/nope/chrome', { exists: async () => false }), (error: Error) => {
      assert.ok(error instanceof BrowserNotFoundError);
      assert.match(error.message, /webTester\.browserPath \(\/nope\/chrome\) is not an executable/);
      return true;
    });
  });

  it('falls back through the candidates in order, and with none found names the setting and every path tried', async () => {
    const seen: string[] = [];
    const found = await resolveBrowserExecutable(undefined, { candidates: ['/a', '/b', '/c'], exists: async (path) => (seen.push(path), path === '/b') });
    assert.equal(found, '/b');
    assert.deepEqual(seen, ['/a', '/b']);
    await assert.rejects(resolveBrowserExecutable(undefined, { candidates: ['/a', '/b'], exists: async () => false }), /looked at \/a, \/b\); no browser is downloaded\. .*set webTester\.browserPath/);
  });
});

describe('web tester: flows', () => {
  it('checks what the model writes: known actions, unique names, safe screenshot names', () => {
    assert.ok(webFlowsSchema.safeParse([signupFlow('Welcome')]).success);
    assert.ok(!webFlowsSchema.safeParse([]).success, 'at least one flow');
    assert.ok(!webFlowsSchema.safeParse([signupFlow('x'), signupFlow('x')]).success, 'names are unique');
    assert.ok(!webFlowsSchema.safeParse([{ name: 'a', steps: [{ action: 'evaluate', script: 'alert(1)' }] }]).success);
    assert.ok(!webFlowsSchema.safeParse([{ name: 'a', steps: [{ action: 'screenshot', name: '../../etc/x' }] }]).success);
  });

  it('keeps goto inside the app origin', () => {
    assert.equal(urlWithin('http://127.0.0.1:3000/app/', 'signup?x=1'), 'http://127.0.0.1:3000/app/signup?x=1');
    assert.equal(urlWithin('http://127.0.0.1:3000/', '/a'), 'http://127.0.0.1:3000/a');
    assert.throws(() => urlWithin('http://127.0.0.1:3000/', 'https://evil.example/'), /leaves the app's origin/);
    assert.throws(() => urlWithin('http://127.0.0.1:3000/', '//evil.example/x'), /leaves the app's origin/);
  });

  it('runs every flow: a pass with its screenshot, a failure naming the step and what the page said, with a failure screenshot', async () => {
    const browser = new FakeBrowser(SITE);
    const session = await browser.launch({ allowedOrigin: 'http://127.0.0.1:1/' });
    const saved: string[] = [];
    const withShot: WebFlow = { ...signupFlow('Welcome, Ada!'), steps: [...signupFlow('x').steps.slice(0, 3), { action: 'screenshot', name: 'after' }] };
    const results = await runFlows(session, [withShot, signupFlow('Thanks for signing up')], {
      baseUrl: 'http://127.0.0.1:1/',
      signal: new AbortController().signal,
      saveScreenshot: async (flow, name) => (saved.push(`${flow}:${name}`), `shots/${flow}-${name}.png`),
    });
    assert.equal(results[0]!.ok, true);
    assert.deepEqual(results[0]!.screenshots, [{ name: 'after', artifact: 'shots/0-after.png' }]);
    const failed = results[1]!;
    assert.equal(failed.ok, false);
    assert.equal(failed.failedStep, 3);
    assert.match(failed.error!, /step 4 \(expect "Thanks for signing up" in #welcome\): "Thanks for signing up" did not appear in #welcome; it reads "Welcome, Ada!"/);
    assert.deepEqual(saved, ['0:after', '1:failure']);
    assert.equal(webFailureSignature(results), 'signup shows Thanks for signing up#3');
  });
});

const webPlan = {
  summary: 'Check the signup form in a browser.',
  tasks: [
    {
      id: 't1',
      title: 'Signup works in a browser',
      description: 'Fill the signup form and check the welcome page.',
      role: 'web_tester',
      dependsOn: [],
      acceptance: ['submitting the form greets the user by name'],
      files: ['test/**'],
    },
  ],
};

function webTranscript(flows: WebFlow[], extra: TranscriptTurn[] = []): TranscriptTurn[] {
  return [
    { role: 'planner', toolCalls: [{ tool: 'finish', input: webPlan }] },
    { role: 'web_tester', task: 't1', expect: 'You are the web tester', toolCalls: [{ tool: 'finish', input: { summary: 'Flows for the signup form.', flows } }] },
    ...extra,
  ];
}

async function webWorkspace(): Promise<string> {
  const ws = await tempDir('sm-web-');
  await cp(join(REPO, 'samples/webapp'), ws, { recursive: true });
  return ws;
}

describe('web tester: a run with a fake browser', function () {
  this.timeout(60_000);
  // What the readiness probe reaches: the fake runner starts nothing, so something must answer.
  let app: Server;
  let WEB: { devServerCommand: string; url: string; readyTimeoutMs: number };
  before(async () => {
    app = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    WEB = { devServerCommand: 'node server.js 4173', url: `http://127.0.0.1:${(app.address() as AddressInfo).port}/`, readyTimeoutMs: 5000 };
  });
  after(() => app.close());

  it('starts the approved dev server, runs the flows, stores the screenshots and stops the server; the task is done', async () => {
    const ws = await webWorkspace();
    const browser = new FakeBrowser(SITE);
    const runner = new FakeCommandRunner();
    const { engine, runsDir } = await makeEngine(ws, { browser, commandRunner: runner });
    const transcript = await writeTranscript(ws, webTranscript([signupFlow('Welcome, Ada!')]));
    const config = scriptedConfig(transcript, { reviewGate: false, webTester: WEB, commands: { ...scriptedConfig(transcript).commands, allow: ['node server.js'] } });
    const handle = await engine.startRun('Check signup', config);
    const final = await handle.finished;
    assert.equal(final.status, 'completed', final.statusReason);
    assert.equal(final.tasks.t1!.status, 'done');
    assert.deepEqual(runner.started.map((request) => [request.command, request.purpose, request.role]), [['node server.js 4173', 'dev-server', 'web_tester']]);
    assert.equal(runner.stopped, 1, 'the dev server is stopped after the flows');
    assert.equal(browser.closed, 1);
    assert.equal(browser.launches[0]!.allowedOrigin, WEB.url);
    const events = (await readFile(join(runsDir, final.id, 'events.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { type: string });
    const types = events.map((event) => event.type);
    assert.ok(types.indexOf('approval.decided') < types.indexOf('command.started'), 'approved before it starts');
    assert.ok(types.indexOf('webtest.flow') < types.indexOf('command.finished'), 'stopped after the flows');
    const result = final.tasks.t1!.webResults!;
    assert.equal(result.attempt, 1);
    assert.equal(result.results[0]!.ok, true);
    const shot = result.results[0]!.screenshots[0]!;
    assert.match(shot.artifact, /^artifacts\/webtest\/t1\/a1-f1-end\.png$/);
    assert.deepEqual(new Uint8Array(await readFile(join(runsDir, final.id, shot.artifact))), PNG);
    assert.deepEqual(foldEvents(events as never)!.tasks.t1!.webFlows, [signupFlow('Welcome, Ada!')]);
  });

  it('a failing flow fails the task like a failing test: the fixer hears the flow and step, the same failure again stops it', async () => {
    const ws = await webWorkspace();
    const browser = new FakeBrowser(SITE);
    const runner = new FakeCommandRunner();
    const { engine, events } = await makeEngine(ws, { browser, commandRunner: runner });
    const fixer: TranscriptTurn = { role: 'fixer', task: 't1', expect: 'did not appear in #welcome; it reads \\"Welcome, Ada!\\"', toolCalls: [{ tool: 'finish', input: { summary: 'Nothing to change.' } }] };
    const transcript = await writeTranscript(ws, webTranscript([signupFlow('Thanks for signing up')], [fixer]));
    const config = scriptedConfig(transcript, { reviewGate: false, maxFixAttempts: 1, webTester: WEB, commands: { ...scriptedConfig(transcript).commands, allow: ['node server.js'] } });
    const final = await (await engine.startRun('Check signup', config)).finished;
    assert.equal(final.tasks.t1!.status, 'dead_letter');
    const failures = ofType(events, 'task.status').filter((event) => event.status === 'failed');
    assert.equal(failures.length, 2, 'the first try and the fix both failed');
    assert.equal(failures[0]!.signature, 'web:signup shows Thanks for signing up#3');
    assert.match(failures[0]!.reason!, /web flows: 1 of 1 web flows failed: flow "signup shows Thanks for signing up" failed at step 4/);
    assert.equal(final.tasks.t1!.webResults!.attempt, 2, 'the fix was checked against the same flows');
    assert.equal(runner.started.length, 2);
    assert.equal(runner.stopped, 2);
  });

  it('refuses to start a dev server nobody approved: no allow entry and no approver fails the task, nothing starts', async () => {
    const ws = await webWorkspace();
    const runner = new FakeCommandRunner();
    const { engine, events } = await makeEngine(ws, { browser: new FakeBrowser(SITE), commandRunner: runner });
    const transcript = await writeTranscript(ws, webTranscript([signupFlow('Welcome')]));
    const final = await (await engine.startRun('Check signup', scriptedConfig(transcript, { reviewGate: false, maxFixAttempts: 0, webTester: WEB }))).finished;
    assert.equal(final.tasks.t1!.status, 'dead_letter');
    assert.equal(runner.started.length, 0);
    assert.match(final.tasks.t1!.lastFailure!, /dev server command "node server\.js 4173" was not approved/);
    const decided = ofType(events, 'approval.decided');
    assert.equal(decided[0]!.approved, false);
  });

  it('without a dev-server command starts nothing and tests the app already answering at the URL', async () => {
    const ws = await webWorkspace();
    const runner = new FakeCommandRunner();
    const { engine, events } = await makeEngine(ws, { browser: new FakeBrowser(SITE), commandRunner: runner });
    const transcript = await writeTranscript(ws, webTranscript([signupFlow('Welcome, Ada!')]));
    const final = await (await engine.startRun('Check signup', scriptedConfig(transcript, { reviewGate: false, webTester: { url: WEB.url, readyTimeoutMs: 5000 } }))).finished;
    assert.equal(final.tasks.t1!.status, 'done', final.tasks.t1!.statusReason);
    assert.equal(runner.started.length, 0);
    assert.equal(ofType(events, 'approval.requested').length, 0);
  });

  it('names webTester.url when no URL is configured', async () => {
    const ws = await webWorkspace();
    const { engine } = await makeEngine(ws, { browser: new FakeBrowser(SITE), commandRunner: new FakeCommandRunner() });
    const transcript = await writeTranscript(ws, webTranscript([signupFlow('Welcome')]));
    const final = await (await engine.startRun('Check signup', scriptedConfig(transcript, { reviewGate: false, maxFixAttempts: 0 }))).finished;
    assert.match(final.tasks.t1!.lastFailure!, /set webTester\.url/);
  });
});
