// One base class tells a user's mistake (or a refusal) from a bug: every error the hosts show as a
// plain message is a UserError, and an ordinary Error is not.
import { strict as assert } from 'node:assert';
import {
  CheckpointError,
  ConcurrentRunError,
  ConfigError,
  ForeignRunError,
  ModelConfigError,
  ReplayError,
  RollbackRefusedError,
  TranscriptError,
  TriageError,
  UnknownRunError,
} from '../../src/core';
import { GitModeError } from '../../src/core/checkpoints/gitMode';
import { RunLockedError } from '../../src/core/log/eventLog';
import { TestDetectionError } from '../../src/core/testing/detect';
import { WorkspaceError } from '../../src/core/workspace/paths';
import { UsageError } from '../../src/cli/options';
import { WorkspaceConfigNotTrustedError } from '../../src/cli/trust';
import { isUserError, UserError } from '../../src/shared/errors';

describe('user-facing errors', () => {
  it('every refusal and bad-input error is a UserError, keeps its own name, and a plain Error is not', () => {
    const errors: Error[] = [
      new UsageError('u'),
      new WorkspaceConfigNotTrustedError('.software-maker/config.json', ['model URL https://x'], 'Why.'),
      new ForeignRunError('r1'),
      new UnknownRunError('r1'),
      new RollbackRefusedError('no'),
      new ConcurrentRunError([]),
      new ConfigError('c'),
      new TranscriptError('t'),
      new ModelConfigError('m'),
      new TriageError('t'),
      new ReplayError('r'),
      new CheckpointError('busy', 'b'),
      new GitModeError('dirty', 'd'),
      new TestDetectionError('d'),
      new RunLockedError('/runs/r1', 'pid 1', '/runs/r1/run.lock'),
      new WorkspaceError('outside', 'o'),
    ];
    for (const error of errors) {
      assert.ok(error instanceof UserError && isUserError(error), error.constructor.name);
      assert.notEqual(error.name, 'UserError', `${error.constructor.name} names itself`);
      assert.ok(error.message.length > 0);
    }
    assert.equal(isUserError(new Error('bug')), false);
    assert.equal(isUserError(new TypeError('bug')), false);
    assert.equal(isUserError('a string'), false);
  });
});
