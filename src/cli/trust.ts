// What the CLI trusts. A key goes only to an endpoint the user configured (flags, --config FILE, the
// user's own config file); a workspace config that names endpoints, key variables, transcripts,
// commands or auto-approval is used only after the user accepted exactly what it names: asked once
// in a terminal, or --trust-workspace-config. The answer is kept in the user's state folder, keyed by
// the workspace and a digest of what was shown, so any change to it asks again.
import { trustDigest, trustSurfaceOf, type TrustRecords } from '../core';
import type { CliConfigFiles } from './options';
import { UserError } from '../shared/errors';

export const TRUST_WORKSPACE_CONFIG_FLAG = '--trust-workspace-config';

/** The workspace config names something that needs the user's consent, and nobody gave it. */
export class WorkspaceConfigNotTrustedError extends UserError {
  constructor(path: string, lines: readonly string[], why: string) {
    super(
      `${path} came with the workspace and would make this machine use:\n${listed(lines)}\n` +
        `${why} Nothing was sent or run. If you trust these, pass ${TRUST_WORKSPACE_CONFIG_FLAG} (remembered until the file changes); ` +
        'or pass --config FILE to use a config of your own instead.',
    );
    this.name = 'WorkspaceConfigNotTrustedError';
  }
}

export interface WorkspaceTrustOptions {
  workspace: string;
  records: TrustRecords;
  /** --trust-workspace-config */
  accept: boolean;
  /** A terminal to ask in: the question after `detail` (what would be trusted). */
  ask?: (question: string, detail: string) => Promise<boolean>;
}

/** Resolves when the workspace config holds nothing that needs trust, or the user trusts what it names; throws otherwise. */
export async function requireTrustedWorkspaceConfig(files: CliConfigFiles, options: WorkspaceTrustOptions): Promise<void> {
  if (!files.workspace) return;
  const lines = trustSurfaceOf(files.workspace.config);
  if (lines.length === 0) return;
  const digest = trustDigest(lines);
  if (await options.records.has('workspace-config', options.workspace, digest)) return;
  if (!options.accept) {
    if (!options.ask) throw new WorkspaceConfigNotTrustedError(files.workspace.path, lines, 'There is no terminal to ask whether you trust them.');
    const detail = `${files.workspace.path} came with the workspace and would make this machine use:\n${listed(lines)}`;
    if (!(await options.ask('Trust these for this workspace (asked again when they change)?', detail))) {
      throw new WorkspaceConfigNotTrustedError(files.workspace.path, lines, 'You did not trust them.');
    }
  }
  await options.records.remember('workspace-config', options.workspace, digest);
}

export function listed(lines: readonly string[]): string {
  return lines.map((line) => `  - ${line}`).join('\n');
}
