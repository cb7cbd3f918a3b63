// The MCP servers of one run: started together when the run is driven, closed when it rests. Their
// tools become agent tools named mcp__<server>__<tool> for the roles each server is offered to; a
// server that fails to start is reported and left out, so the run goes on with the others.
import { createHash } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { NewEvent } from '../../shared/events';
import type { Role } from '../../shared/model';
import type { McpConfig } from '../../shared/runConfig';
import { McpConnection, McpServerError, type McpConnectOptions } from './connection';
import { messageOf } from '../../shared/wording';

/** Longest tool name every provider accepts (OpenAI: 64, [A-Za-z0-9_-]). */
const MAX_TOOL_NAME = 64;
/** Characters of a tool's description the model is shown. */
export const MAX_TOOL_DESCRIPTION_CHARS = 1_000;
/** A tool whose input schema is larger than this (as JSON) is not offered: it would crowd every prompt. */
export const MAX_INPUT_SCHEMA_CHARS = 16_000;
/** Longest MCP tool name offered (the MCP spec's own bound): the name is shown to the model, the user and the log. */
export const MAX_MCP_TOOL_NAME_CHARS = 128;
/** MCP tools offered to one turn at most (providers refuse more than about 128 tools in all). */
export const MAX_MCP_TOOLS = 64;

export interface McpTool {
  server: string;
  /** The tool's name on its server. */
  tool: string;
  /** Its name as agents call it. */
  agentName: string;
  description: string;
  inputSchema: Tool['inputSchema'];
}

type Emit = (event: NewEvent) => void;

export class McpSession {
  private constructor(
    private readonly config: McpConfig,
    private readonly connections: Map<string, McpConnection>,
    private readonly tools: McpTool[],
  ) {}

  /** An empty session: no servers configured, or none needed. */
  static none(config: McpConfig): McpSession {
    return new McpSession(config, new Map(), []);
  }

  /** Starts every configured server at once; each failure is an `mcp.server` event, not a failed run. */
  static async open(config: McpConfig, options: Omit<McpConnectOptions, 'timeoutMs'>, emit: Emit): Promise<McpSession> {
    const names = Object.keys(config.servers);
    const connections = new Map<string, McpConnection>();
    const opened = await Promise.all(
      names.map(async (name) => {
        const spec = config.servers[name]!;
        try {
          return await McpConnection.open(name, spec, { ...options, timeoutMs: config.connectTimeoutMs });
        } catch (error) {
          const message = error instanceof McpServerError ? error.message : `MCP server "${name}" failed to start: ${messageOf(error)}`;
          emit({ type: 'mcp.server', server: name, transport: spec.type, status: 'failed', error: message });
          return undefined;
        }
      }),
    );
    const tools: McpTool[] = [];
    const taken = new Set<string>();
    for (const connection of opened) {
      if (!connection) continue;
      connections.set(connection.name, connection);
      const offered: string[] = [];
      const left: string[] = [];
      for (const tool of connection.tools) {
        const only = connection.spec.tools;
        if (only && !only.includes(tool.name)) continue;
        if (tool.name.length > MAX_MCP_TOOL_NAME_CHARS) {
          left.push(`${tool.name.slice(0, 40)}… (a name of ${tool.name.length} characters)`);
          continue;
        }
        const schemaSize = JSON.stringify(tool.inputSchema ?? {}).length;
        if (schemaSize > MAX_INPUT_SCHEMA_CHARS || tools.length >= MAX_MCP_TOOLS) {
          left.push(`${tool.name} (${schemaSize > MAX_INPUT_SCHEMA_CHARS ? `input schema of ${schemaSize} characters` : `over ${MAX_MCP_TOOLS} MCP tools`})`);
          continue;
        }
        const agentName = agentToolName(connection.name, tool.name, taken);
        taken.add(agentName);
        tools.push({ server: connection.name, tool: tool.name, agentName, description: boundedDescription(connection.name, tool), inputSchema: tool.inputSchema });
        offered.push(tool.name);
      }
      emit({
        type: 'mcp.server',
        server: connection.name,
        transport: connection.spec.type,
        status: 'connected',
        tools: offered,
        ...(left.length ? { error: `not offered: ${left.slice(0, 20).join(', ')}${left.length > 20 ? ` and ${left.length - 20} more` : ''}` } : {}),
      });
    }
    return new McpSession(config, connections, tools);
  }

  /** The tools offered to a role: those of servers whose `roles` include it (every role when unset). */
  toolsFor(role: Role): McpTool[] {
    return this.tools.filter((tool) => {
      const roles = this.config.servers[tool.server]?.roles;
      return !roles || roles.includes(role);
    });
  }

  async call(tool: McpTool, input: Record<string, unknown>, signal: AbortSignal) {
    const connection = this.connections.get(tool.server);
    if (!connection) throw new McpServerError(`MCP server "${tool.server}" is not connected.`);
    return connection.call(tool.tool, input, this.config.callTimeoutMs, signal);
  }

  /** Closes every server (stdio processes end). */
  async close(): Promise<void> {
    const open = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(open.map((connection) => connection.close()));
  }
}

/** `mcp__<server>__<tool>` with characters providers refuse replaced; a long or taken name gets a hash suffix. */
export function agentToolName(server: string, tool: string, taken: ReadonlySet<string> = new Set()): string {
  const clean = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, '_');
  const name = `mcp__${clean(server)}__${clean(tool)}`;
  if (name.length <= MAX_TOOL_NAME && !taken.has(name)) return name;
  const hash = createHash('sha256').update(`${server}\0${tool}`).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_TOOL_NAME - hash.length - 1)}_${hash}`;
}

function boundedDescription(server: string, tool: Tool): string {
  const text = (tool.description ?? tool.title ?? '').trim();
  const cut = text.length > MAX_TOOL_DESCRIPTION_CHARS ? `${text.slice(0, MAX_TOOL_DESCRIPTION_CHARS)}…` : text;
  return `[MCP tool "${tool.name}" of server "${server}"; each call may need the user's approval] ${cut}`.trim();
}
