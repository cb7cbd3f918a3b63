// MCP tools as agent tools. Every call is approved like a command: an `mcp.allow` rule first, else
// the host asks the user (with the server, the tool and the input verbatim); nobody to ask is a no.
// The agent hears a denial as a tool error and the server's answer as bounded text.
import { jsonSchema, tool, type JSONSchema7, type ToolSet } from 'ai';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ApprovalSubject } from '../../shared/model';
import { truncateForModel } from '../agents/tools';
import type { McpSession, McpTool } from './session';

/** The input as the approval shows it: whole up to this size. */
const MAX_SHOWN_INPUT_CHARS = 8_000;

export type McpSubject = Extract<ApprovalSubject, { kind: 'mcp' }>;

/** Decides one call: `rule` is the `mcp.allow` entry that matches it, if any. Resolves to the decision. */
export type ApproveMcpCall = (subject: McpSubject, rule: string | undefined, signal: AbortSignal) => Promise<{ approved: boolean; reason?: string }>;

/**
 * The `mcp.allow` entry that lets `server`'s `tool` run without asking: entries are `server/tool`,
 * where `*` in either part matches any characters (`github/*`, `*\/read_*`).
 */
export function mcpAllowRule(allow: readonly string[], server: string, tool: string): string | undefined {
  return allow.find((entry) => {
    const slash = entry.indexOf('/');
    if (slash <= 0) return false;
    return globMatch(entry.slice(0, slash), server) && globMatch(entry.slice(slash + 1), tool);
  });
}

/** Checks an `mcp.allow` entry; undefined when it is usable. */
export function checkMcpAllowEntry(entry: string): string | undefined {
  const slash = entry.indexOf('/');
  if (slash <= 0 || slash === entry.length - 1) return `"${entry}" is not server/tool (use * for any, e.g. "github/*")`;
  return undefined;
}

function globMatch(pattern: string, text: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(text);
}

export interface McpToolContext {
  session: McpSession;
  tools: readonly McpTool[];
  allow: readonly string[];
  approve: ApproveMcpCall;
  /** Cap on each result the model gets back. */
  maxOutputChars?: number;
}

export function buildMcpTools(context: McpToolContext): ToolSet {
  const tools: ToolSet = {};
  for (const entry of context.tools) {
    tools[entry.agentName] = tool({
      description: entry.description,
      inputSchema: jsonSchema<Record<string, unknown>>(entry.inputSchema as JSONSchema7),
      execute: async (input, { abortSignal }) => {
        const signal = abortSignal ?? new AbortController().signal;
        const args = isRecord(input) ? input : {};
        const shown = JSON.stringify(args);
        const rule = mcpAllowRule(context.allow, entry.server, entry.tool);
        // Nothing may hide past what a person is shown: an input too large to show whole is not asked about.
        if (!rule && shown.length > MAX_SHOWN_INPUT_CHARS) {
          throw new Error(
            `The call of ${entry.tool} on MCP server "${entry.server}" was not run: its input is ${shown.length} characters, more than an approval can show whole (${MAX_SHOWN_INPUT_CHARS}). Send a smaller input, or finish and say what you needed.`,
          );
        }
        const subject: McpSubject = {
          kind: 'mcp',
          server: entry.server,
          tool: entry.tool,
          input: shown.length > MAX_SHOWN_INPUT_CHARS ? `${shown.slice(0, MAX_SHOWN_INPUT_CHARS)}… [${shown.length - MAX_SHOWN_INPUT_CHARS} more characters]` : shown,
        };
        const decision = await context.approve(subject, rule, signal);
        if (!decision.approved) {
          throw new Error(
            `The call of ${entry.tool} on MCP server "${entry.server}" was not approved${decision.reason ? `: ${decision.reason}` : ''}. It did not run. Do without it, or finish and say what you needed it for.`,
          );
        }
        const result = await context.session.call(entry, args, signal);
        const text = resultText(result);
        if (result.isError) throw new Error(`MCP tool ${entry.tool} of "${entry.server}" reported an error: ${truncateForModel(text, context.maxOutputChars)}`);
        return truncateForModel(text || '(the tool returned nothing)', context.maxOutputChars);
      },
    });
  }
  return tools;
}

/** A tool result as text: text parts as they are, other content named with its size, structured content as JSON. */
export function resultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const item of result.content ?? []) {
    switch (item.type) {
      case 'text':
        parts.push(item.text);
        break;
      case 'image':
      case 'audio':
        parts.push(`[${item.type} ${item.mimeType}, about ${Math.floor((item.data.length * 3) / 4)} bytes, not shown]`);
        break;
      case 'resource':
        parts.push('text' in item.resource && typeof item.resource.text === 'string' ? item.resource.text : `[resource ${item.resource.uri}, binary, not shown]`);
        break;
      case 'resource_link':
        parts.push(`[resource ${item.uri}${item.name ? ` (${item.name})` : ''}]`);
        break;
    }
  }
  if (!parts.length && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  return parts.join('\n');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
