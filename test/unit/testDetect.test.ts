import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { analyzeCommand } from '../../src/core/testing/commandLine';
import { detectTestCommand, TestDetectionError, type DetectedTestCommand } from '../../src/core/testing/detect';
import { buildTestInvocation } from '../../src/core/testing/invocation';
import { relatedTests } from '../../src/core/testing/related';
import { calculatorWorkspace, runCli, tempDir } from './helpers';
import { buildCli } from './builtCli';

let root: string;

async function put(rel: string, content = ''): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), content);
}

const pkg = (scripts: Record<string, string>, extra: Record<string, unknown> = {}): string => JSON.stringify({ name: 'x', scripts, ...extra });

describe('detectTestCommand: frameworks, monorepos, overrides', () => {
  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-detect2-')));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads the framework from the test script, through npm run indirections and wrappers', async () => {
    const cases: [string, string, boolean][] = [
      ['jest --coverage', 'jest', true],
      ['vitest run', 'vitest', true],
      ['mocha', 'mocha', true],
      ['node --test', 'node-test', true],
      ['cross-env NODE_ENV=test jest', 'jest', true],
      ['tsc -p . && vitest run', 'vitest', true],
      ['npm run test:unit', 'jest', false],
      ['jest && eslint .', 'jest', false],
      ['c8 mocha', 'mocha', true],
      ['turbo run test', 'unknown', false],
    ];
    for (const [script, framework, canAppend] of cases) {
      const analysis = analyzeCommand(script, { 'test:unit': 'jest --ci' });
      assert.equal(analysis.framework, framework, script);
      assert.equal(analysis.canAppend, canAppend, script);
    }
    assert.equal(analyzeCommand('node --test test/', {}).namesTests, true);
    assert.equal(analyzeCommand('mocha --require ts-node/register', {}).namesTests, false);
    assert.equal(analyzeCommand('python -m pytest -x tests/unit', {}).framework, 'pytest');
  });

  it('falls back to the one test framework among the dependencies when the script hides it', async () => {
    await put('package.json', pkg({ test: 'turbo run test' }, { devDependencies: { vitest: '^3.0.0', typescript: '^5' } }));
    const found = await detectTestCommand(root);
    assert.equal(found?.framework, 'vitest');
    assert.equal(found?.argStyle, undefined, 'arguments are not added to a script whose command line is unknown');
    assert.equal(found?.reporter, undefined);
    assert.match(found?.reason ?? '', /vitest is a dependency/);
  });

  it('offers a reporter only where the framework has one (mocha from 9.2)', async () => {
    await put('package.json', pkg({ test: 'mocha' }));
    assert.equal((await detectTestCommand(root))?.reporter, undefined, 'mocha not installed: version unknown');
    await put('node_modules/mocha/package.json', JSON.stringify({ version: '9.1.4' }));
    assert.equal((await detectTestCommand(root))?.reporter, undefined);
    await put('node_modules/mocha/package.json', JSON.stringify({ version: '12.0.3' }));
    assert.equal((await detectTestCommand(root))?.reporter, 'mocha-json');
    await put('.mocharc.json', JSON.stringify({ spec: ['test/**/*.spec.js'] }));
    assert.equal((await detectTestCommand(root))?.namesTests, true, 'mocha adds config spec to command-line files');
  });

  it('in a monorepo picks the package nearest to the task files, with the lockfile from an ancestor', async () => {
    await put('package.json', pkg({ test: 'turbo run test' }, { workspaces: ['packages/*'] }));
    await put('pnpm-lock.yaml');
    await put('packages/api/package.json', pkg({ test: 'vitest run' }));
    await put('packages/api/src/server.ts');
    await put('packages/web/package.json', pkg({ test: 'jest' }));
    await put('packages/web/src/deep/nested/button.tsx');
    await put('packages/web/node_modules/.keep');
    await put('packages/docs/package.json', pkg({ build: 'tsc' }));
    await put('packages/docs/guide.md');

    const api = await detectTestCommand(root, { near: ['packages/api/src/server.ts'] });
    assert.equal(api?.cwd, path.join(root, 'packages/api'));
    assert.equal(api?.command, 'pnpm test');
    assert.equal(api?.packageManager, 'pnpm');
    assert.equal(api?.framework, 'vitest');
    assert.match(api?.reason ?? '', /^packages\/api is the package nearest to packages\/api\/src\/server\.ts: .*pnpm-lock\.yaml in the workspace root selects pnpm/);

    const web = await detectTestCommand(root, { near: ['packages/web/src/deep/nested/button.tsx', 'packages/api/src/server.ts', 'packages/web/src/x.ts'] });
    assert.equal(web?.cwd, path.join(root, 'packages/web'), 'the package most paths share wins');
    assert.equal(web?.framework, 'jest');

    // A package without a test script is skipped on the way up; the root's own script remains.
    const docs = await detectTestCommand(root, { near: ['packages/docs/guide.md'] });
    assert.equal(docs?.cwd, root);
    assert.equal(docs?.command, 'pnpm test');
    assert.equal(docs?.framework, 'unknown');

    // A lockfile in the package itself beats the ancestor's; npm passes arguments after "--".
    await put('packages/web/package-lock.json', '{}');
    const webNpm = await detectTestCommand(root, { near: ['packages/web/src/x.ts'] });
    assert.equal(webNpm?.command, 'npm test');
    assert.equal(webNpm?.argStyle, 'npm');
  });

  it('walks up to go.mod, Cargo.toml and pyproject folders of a mixed repository', async () => {
    await put('services/billing/go.mod', 'module example.com/billing\n');
    await put('services/billing/internal/tax/tax.go');
    await put('crates/core/Cargo.toml', '[package]\nname = "core"\n');
    await put('crates/core/src/lib.rs');
    await put('tools/py/pyproject.toml', '[tool.pytest.ini_options]\n');
    await put('tools/py/pkg/mod.py');
    assert.equal((await detectTestCommand(root, { near: ['services/billing/internal/tax/tax.go'] }))?.cwd, path.join(root, 'services/billing'));
    assert.equal((await detectTestCommand(root, { near: ['crates/core/src/lib.rs'] }))?.framework, 'cargo');
    const py = await detectTestCommand(root, { near: ['tools/py/pkg/mod.py'] });
    assert.equal(py?.framework, 'pytest');
    assert.equal(py?.cwd, path.join(root, 'tools/py'));
    assert.equal(await detectTestCommand(root, { near: ['../outside.ts', 'README.md'] }), undefined, 'nothing at the root, nothing outside it');
  });

  it('lets a configured command or a tasks.json label win over detection', async () => {
    await put('package.json', pkg({ test: 'jest' }));
    const configured = await detectTestCommand(root, { override: 'npx vitest run --project unit' });
    assert.equal(configured?.command, 'npx vitest run --project unit');
    assert.equal(configured?.source, 'configured');
    assert.equal(configured?.framework, 'vitest');
    assert.equal(configured?.reporter, 'vitest-json');
    assert.equal((await detectTestCommand(root, { override: { kind: 'command', command: 'npm test' } }))?.framework, 'jest', 'npm test reads the script');
    const task = await detectTestCommand(root, { override: { kind: 'taskLabel', label: 'npm: test' } });
    assert.deepEqual({ source: task?.source, taskLabel: task?.taskLabel, command: task?.command }, { source: 'task', taskLabel: 'npm: test', command: '' });
    await assert.rejects(detectTestCommand(root, { override: '  ' }), (e: unknown) => e instanceof TestDetectionError && /empty/.test(e.message));
  });
});

describe('buildTestInvocation', () => {
  const base = (over: Partial<DetectedTestCommand>): DetectedTestCommand => ({ command: 'npm test', cwd: '/w', framework: 'jest', reason: 'r', source: 'detected', argStyle: 'npm', namesTests: false, ...over });

  it('adds each framework’s machine-readable reporter', () => {
    const file = '/tmp/r/report.json';
    const cases: [Partial<DetectedTestCommand>, string, string | undefined][] = [
      [{ reporter: 'jest-json' }, 'npm test -- --json --outputFile=/tmp/r/report.json', file],
      [{ framework: 'vitest', reporter: 'vitest-json', command: 'pnpm test', argStyle: 'append' }, 'pnpm test --reporter=default --reporter=json --outputFile=/tmp/r/report.json', file],
      [{ framework: 'mocha', reporter: 'mocha-json' }, 'npm test -- --reporter json --reporter-option output=/tmp/r/report.json', file],
      [{ framework: 'node-test', reporter: 'tap' }, 'npm test -- --test-reporter=tap --test-reporter-destination=/tmp/r/report.json --test-reporter=spec --test-reporter-destination=stdout', file],
      [{ framework: 'pytest', reporter: 'junit-xml', command: 'pytest', argStyle: 'append' }, 'pytest --junitxml=/tmp/r/report.json', file],
      [{ framework: 'go', reporter: 'go-json', command: 'go test ./...', argStyle: 'append', namesTests: true }, 'go test -json ./...', undefined],
      [{ framework: 'cargo', command: 'cargo test', argStyle: 'append' }, 'cargo test', undefined],
      [{ reporter: 'jest-json', argStyle: undefined }, 'npm test', undefined],
    ];
    for (const [over, command, reportFile] of cases) {
      const invocation = buildTestInvocation(base(over), { reportFile: file });
      assert.equal(invocation.command, command);
      assert.equal(invocation.report?.file, reportFile, command);
    }
    assert.equal(buildTestInvocation(base({ framework: 'mocha', reporter: 'mocha-json' }), { reportFile: file }).quietTerminal, true);
    assert.equal(buildTestInvocation(base({ framework: 'go', reporter: 'go-json', command: 'go test ./...', argStyle: 'append' }), {}).report?.format, 'go-json');
    assert.equal(buildTestInvocation(base({ reporter: 'jest-json' }), { reportFile: "/tmp/it's here/r.json", platform: 'linux' }).command, "npm test -- --json --outputFile='/tmp/it'\\''s here/r.json'");
  });

  it('narrows to the related files where the framework allows, and says so', () => {
    const only = ['src/a.test.ts', 'src/b c.test.ts'];
    const jest = buildTestInvocation(base({}), { only, platform: 'linux' });
    assert.equal(jest.command, "npm test -- src/a.test.ts 'src/b c.test.ts'");
    assert.equal(jest.only?.applied, true);
    const pkgRoot = buildTestInvocation(base({ cwd: '/w/packages/api', framework: 'vitest', argStyle: 'append', command: 'yarn test' }), { only: ['packages/api/src/x.test.ts'], root: '/w' });
    assert.equal(pkgRoot.command, 'yarn test src/x.test.ts', 'paths are made relative to the package');
    const named = buildTestInvocation(base({ framework: 'node-test', namesTests: true }), { only });
    assert.equal(named.command, 'npm test');
    assert.equal(named.only?.applied, false);
    assert.match(named.only?.note ?? '', /already names its test files/);
    const go = buildTestInvocation(base({ framework: 'go', reporter: 'go-json', command: 'go test ./...', argStyle: 'append', namesTests: true }), { only: ['./internal/tax', 'cmd/main.go'] });
    assert.equal(go.command, 'go test -json ./internal/tax ./cmd');
    const pytest = buildTestInvocation(base({ framework: 'pytest', command: 'pytest', argStyle: 'append', reporter: 'junit-xml' }), { only: ['tests/test_x.py::test_y'], reportFile: '/r.xml' });
    assert.equal(pytest.command, 'pytest --junitxml=/r.xml tests/test_x.py::test_y');
    const cargo = buildTestInvocation(base({ framework: 'cargo', command: 'cargo test', argStyle: 'append' }), { only: ['tests/api.rs'] });
    assert.equal(cargo.command, 'cargo test --test api');
    assert.equal(buildTestInvocation(base({ framework: 'cargo', command: 'cargo test', argStyle: 'append' }), { only: ['src/lib.rs'] }).only?.applied, false);
    const task = buildTestInvocation(base({ command: '', taskLabel: 'test', source: 'task', argStyle: undefined }), { only });
    assert.deepEqual([task.command, task.taskLabel, task.only?.applied], ['', 'test', false]);
  });
});

describe('relatedTests', () => {
  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), 'sm-related-')));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('maps JS/TS sources to tests by name, folder conventions and imports', async () => {
    await put('src/math/add.ts');
    await put('src/math/add.test.ts');
    await put('src/math/__tests__/add.spec.ts');
    await put('test/math/add.test.ts');
    await put('test/other/add.test.ts');
    await put('src/util/index.ts');
    await put('src/util/util.test.ts');
    await put('test/integration.test.ts', "import { add } from '../src/math/add';\n");
    await put('test/unrelated.test.ts', "import { x } from '../src/other';\n");
    await put('node_modules/pkg/add.test.ts');
    await put('src/changed.spec.js');
    assert.deepEqual(await relatedTests(root, ['src/math/add.ts'], 'jest'), [
      'src/math/__tests__/add.spec.ts',
      'src/math/add.test.ts',
      'test/integration.test.ts',
      'test/math/add.test.ts',
    ]);
    assert.deepEqual(await relatedTests(root, ['src/util/index.ts'], 'vitest'), ['src/util/util.test.ts']);
    assert.deepEqual(await relatedTests(root, ['src/changed.spec.js', 'README.md'], 'mocha'), ['src/changed.spec.js'], 'a changed test file is its own test');
    assert.deepEqual(await relatedTests(root, ['docs/guide.md'], 'node-test'), []);
  });

  it('maps python modules to test_x.py / x_test.py, go files to their package, cargo to integration tests', async () => {
    await put('pkg/calc.py');
    await put('tests/test_calc.py');
    await put('tests/calc_test.py');
    await put('tests/test_other.py');
    assert.deepEqual(await relatedTests(root, ['pkg/calc.py'], 'pytest'), ['tests/calc_test.py', 'tests/test_calc.py']);
    assert.deepEqual(await relatedTests(root, ['tests/test_other.py'], 'pytest'), ['tests/test_other.py']);
    assert.deepEqual(await relatedTests(root, ['internal/tax/tax.go', 'internal/tax/tax_test.go', 'main.go', 'README.md'], 'go'), ['.', './internal/tax']);
    assert.deepEqual(await relatedTests(root, ['tests/api.rs', 'src/lib.rs'], 'cargo'), ['tests/api.rs']);
  });

  it('finds the tests of a large tree whose sources sort before its test folder (21,000 files in lib/)', async function () {
    this.timeout(60_000);
    for (let folder = 0; folder < 210; folder++) {
      await mkdir(path.join(root, 'lib', `d${folder}`), { recursive: true });
      await Promise.all(Array.from({ length: 100 }, (_, file) => writeFile(path.join(root, 'lib', `d${folder}`, `f${file}.js`), '')));
    }
    await put('src/m1.js');
    await put('test/m1.test.js', "require('../src/m1.js');\n");
    await put('tests/test_m1.py');
    assert.deepEqual(await relatedTests(root, ['src/m1.js'], 'node-test'), ['test/m1.test.js']);
    assert.deepEqual(await relatedTests(root, ['src/m1.py'], 'pytest'), ['tests/test_m1.py']);
  });
});

describe('software-maker test (the CLI as built)', function () {
  this.timeout(60_000);
  let cli = '';

  before(async () => {
    cli = await buildCli();
  });

  const invoke = (args: string[]) => runCli(cli, args);

  it('fails on the calculator sample with its two failing tests, then passes once add() is fixed', async () => {
    const ws = await calculatorWorkspace();
    const failing = await invoke(['test', '--workspace', ws]);
    assert.equal(failing.code, 1, failing.stderr + failing.stdout);
    assert.match(failing.stdout, /^FAILED: 1 passed, 2 failed, 0 skipped \(node-test, from its report file\)/);
    assert.match(failing.stdout, /✖ add returns the sum of two numbers {2}\(test\/calc\.test\.js:6:1\)/);
    assert.match(failing.stdout, /✖ add handles negative numbers/);
    assert.match(failing.stderr, /Running npm test \[node:test\]: package\.json has a test script/);

    const json = await invoke(['test', '--workspace', ws, '--json']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { ok: boolean; failed: number; framework: string; source: string; failures: { name: string }[] };
    assert.deepEqual(report.failures.map((f) => f.name), ['add returns the sum of two numbers', 'add handles negative numbers']);
    assert.deepEqual([report.ok, report.failed, report.framework, report.source], [false, 2, 'node-test', 'report']);

    const calc = path.join(ws, 'src/calc.js');
    await writeFile(calc, (await readFile(calc, 'utf8')).replace('return a - b;', 'return a + b;'));
    const passing = await invoke(['test', '--workspace', ws]);
    assert.equal(passing.code, 0, passing.stderr + passing.stdout);
    assert.match(passing.stdout, /^PASSED: 3 passed, 0 failed, 0 skipped/);
    const near = await invoke(['test', '--workspace', ws, '--near', 'src/calc.js', '--json']);
    assert.equal(near.code, 0, near.stderr);
    assert.equal((JSON.parse(near.stdout) as { passed: number }).passed, 3);
  });

  it('exits 2 with a clear message when nothing can be detected, and 1 for a configured failing command', async () => {
    const empty = await tempDir('sm-cli-empty-');
    const none = await invoke(['test', '--workspace', empty]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No test command found in .*Pass --test-command CMD/);
    const off = await invoke(['test', '--workspace', empty, '--test-command', 'none']);
    assert.equal(off.code, 2);
    assert.match(off.stderr, /Tests are switched off/);
    const crash = await invoke(['test', '--workspace', empty, '--test-command', 'echo boom >&2; exit 3']);
    assert.equal(crash.code, 1);
    assert.match(crash.stdout, /Problem: The test command exited with code 3 without a recognised test summary/);
    assert.match(crash.stdout, /\| boom/);
  });
});
