// What every agent turn of a run gets besides its role's own prompt and tools: the repository's rules
// files in the system prompt, and the tools of the run's MCP servers (for the roles each server is
// offered to). Both are read or started once per drive of the run and, for MCP, closed when it rests.
import type { ToolSet } from 'ai';
import type { Role } from '../../shared/model';
import { loadRulesFiles, NO_RULES, withRules, type RulesFiles } from '../agents/rulesFiles';
import { approveAction } from '../commands/approval';
import { commandPolicyOf } from '../commands/policy';
import { McpSession } from '../mcp/session';
import { buildMcpTools } from '../mcp/tools';
import { apiKeyNameOf } from '../secrets';
import type { StepContext } from './context';

export class TurnExtras {
  private rules: RulesFiles = NO_RULES;
  private mcp: McpSession | undefined;

  constructor(private readonly context: StepContext) {}

  /** Reads the rules files and starts the MCP servers; each is logged (`rules.loaded`, `mcp.server`). */
  async open(): Promise<void> {
    const { state, ports } = this.context;
    if (state.config.rulesFiles) {
      this.rules = await loadRulesFiles(ports.workspace);
      if (this.rules.files.length) this.context.emit({ type: 'rules.loaded', files: this.rules.files, limit: this.rules.limit });
    }
    const mcp = state.config.mcp;
    if (Object.keys(mcp.servers).length && !this.mcp) {
      const modelKeyNames = state.config.models.map(apiKeyNameOf).filter((name): name is string => name !== undefined);
      this.mcp = await McpSession.open(mcp, { workspaceRoot: ports.workspace.root, secret: (name) => ports.secret(name), signal: this.context.signal, modelKeyNames }, (event) => void this.context.emit(event));
    }
  }

  system(base: string): string {
    return withRules(base, this.rules);
  }

  /** The MCP tools a role's turn is offered; every call goes through approveAction (an mcp.allow rule, else the user). */
  tools(role: Role, taskId: string | undefined, stepId: string, maxOutputChars: number): ToolSet {
    const session = this.mcp;
    if (!session) return {};
    const offered = session.toolsFor(role);
    if (!offered.length) return {};
    const { state, ports, signal } = this.context;
    return buildMcpTools({
      session,
      tools: offered,
      allow: state.config.mcp.allow,
      maxOutputChars,
      approve: async (subject, rule, callSignal) => {
        const decision = await approveAction(
          { emit: (event) => this.context.emit(event), approver: ports.approver, policy: commandPolicyOf(state.config), signal: AbortSignal.any([signal, callSignal]) },
          {
            subject,
            role,
            taskId,
            stepId,
            verdict: rule ? { outcome: 'allow', rule: `mcp.allow: "${rule}"`, reason: `The rule mcp.allow "${rule}" lets it run.` } : { outcome: 'ask', reason: 'No mcp.allow rule names this tool.' },
          },
        );
        return decision.approved ? { approved: true } : { approved: false, reason: `${decision.by === 'user' ? 'the user denied it' : 'refused'}${decision.reason ? ` (${decision.reason})` : ''}` };
      },
    });
  }

  async close(): Promise<void> {
    const session = this.mcp;
    this.mcp = undefined;
    await session?.close();
  }
}
