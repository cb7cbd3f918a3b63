// One MCP server as a run sees it: started (stdio) or reached (streamable HTTP) with the official
// SDK's client, its tools listed, each call bounded by a timeout, and closed when the run rests. A
// server that cannot be started, does not answer or dies says so in its error, naming the server,
// what was tried and the last of its stderr: a dead server never hangs a run.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { isAbsolute, resolve } from 'node:path';
import type { McpServerSpec } from '../../shared/runConfig';
import { redactText } from '../log/redact';
import { childEnvironment, PROVIDER_KEY_NAMES, secretRegistry } from '../secrets';

/** What the client tells servers it is. */
const CLIENT_INFO = { name: 'software-maker', version: '1' };
const STDERR_TAIL_CHARS = 2_000;
/** A server may page its tool list; more pages than this is a server going in circles. */
const MAX_TOOL_PAGES = 20;

export class McpServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpServerError';
  }
}

export interface McpConnectOptions {
  workspaceRoot: string;
  /** Resolves a secret by name (SecretStorage / the environment); values are registered for redaction. */
  secret(name: string): Promise<string | undefined>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Key variables of the run's models: like every provider key name, never handed to a server as a secret. */
  modelKeyNames?: readonly string[];
}

/** `stdio: node server.js` / `http: https://…`, for messages. */
export function describeServer(spec: McpServerSpec): string {
  return spec.type === 'stdio' ? `stdio: ${[spec.command, ...(spec.args ?? [])].join(' ')}` : `http: ${spec.url}`;
}

export class McpConnection {
  private closed = false;
  private exitNote: string | undefined;

  private constructor(
    readonly name: string,
    readonly spec: McpServerSpec,
    private readonly client: Client,
    private readonly transport: Transport,
    private readonly stderrTail: () => string,
    readonly tools: Tool[],
  ) {
    client.onclose = () => {
      if (!this.closed) this.exitNote = this.spec.type === 'stdio' ? 'the server process exited' : 'the connection closed';
    };
  }

  /** Starts or reaches the server and lists its tools, within `timeoutMs` in all. */
  static async open(name: string, spec: McpServerSpec, options: McpConnectOptions): Promise<McpConnection> {
    const secrets = await resolveSecrets(name, spec, options);
    let stderr = '';
    let transport: Transport;
    if (spec.type === 'stdio') {
      const stdio = new StdioClientTransport({
        command: spec.command,
        args: spec.args ?? [],
        cwd: spec.cwd ? (isAbsolute(spec.cwd) ? spec.cwd : resolve(options.workspaceRoot, spec.cwd)) : options.workspaceRoot,
        env: serverEnvironment(spec.env ?? {}, secrets),
        stderr: 'pipe',
      });
      stdio.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
      });
      transport = stdio;
    } else {
      let url: URL;
      try {
        url = new URL(spec.url);
      } catch {
        throw new McpServerError(`MCP server "${name}": "${spec.url}" is not a URL.`);
      }
      transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { ...(spec.headers ?? {}), ...secrets } } });
    }
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    const tail = () => stderr.trim();
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    try {
      await client.connect(transport, { timeout: options.timeoutMs, signal });
      const tools: Tool[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        const listed = await client.listTools(cursor ? { cursor } : undefined, { timeout: options.timeoutMs, signal });
        tools.push(...listed.tools);
        cursor = listed.nextCursor;
        if (!cursor) break;
      }
      return new McpConnection(name, spec, client, transport, tail, tools);
    } catch (error) {
      await client.close().catch(() => undefined);
      const why = deadline.aborted || isTimeout(error) ? `did not answer within ${Math.round(options.timeoutMs / 1000)} s` : `could not be started or reached: ${messageOf(error)}`;
      throw new McpServerError(redactText(`MCP server "${name}" (${describeServer(spec)}) ${why}.${stderrNote(tail())}`));
    }
  }

  /** Calls one tool; a timeout, a dead server or a protocol error is an McpServerError. */
  async call(tool: string, input: Record<string, unknown>, timeoutMs: number, signal: AbortSignal): Promise<CallToolResult> {
    if (this.exitNote) throw new McpServerError(`MCP server "${this.name}" is no longer available: ${this.exitNote}.${stderrNote(this.stderrTail())}`);
    try {
      return (await this.client.callTool({ name: tool, arguments: input }, undefined, { timeout: timeoutMs, signal })) as CallToolResult;
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      const why = isTimeout(error)
        ? `did not answer within ${Math.round(timeoutMs / 1000)} s (the call was cancelled)`
        : this.exitNote
          ? `stopped during the call: ${this.exitNote}`
          : `failed: ${messageOf(error)}`;
      throw new McpServerError(redactText(`The call of ${tool} on MCP server "${this.name}" ${why}.${stderrNote(this.stderrTail())}`));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close().catch(() => undefined);
    await this.transport.close().catch(() => undefined);
  }
}

/**
 * A stdio server's environment: ours without any provider key (childEnvironment), the server's
 * configured variables except provider-key names, and the secrets it was given by name.
 */
export function serverEnvironment(configured: Record<string, string>, secrets: Record<string, string>): Record<string, string> {
  const providerNames = new Set(PROVIDER_KEY_NAMES);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(childEnvironment())) if (value !== undefined) env[key] = value;
  for (const [key, value] of Object.entries(configured)) if (!providerNames.has(key)) env[key] = value;
  return { ...env, ...secrets };
}

/** `secretEnv` (stdio) or `secretHeaders` (http): name → value, each registered so every writer redacts it. */
async function resolveSecrets(server: string, spec: McpServerSpec, options: McpConnectOptions): Promise<Record<string, string>> {
  const wanted = spec.type === 'stdio' ? (spec.secretEnv ?? {}) : (spec.secretHeaders ?? {});
  const resolved: Record<string, string> = {};
  const providerKeys = new Set([...PROVIDER_KEY_NAMES, ...(options.modelKeyNames ?? [])].map((name) => name.toUpperCase()));
  for (const [target, secretName] of Object.entries(wanted)) {
    if (providerKeys.has(secretName.toUpperCase())) {
      throw new McpServerError(
        `MCP server "${server}" asks for the secret ${secretName} (for ${target}), which is a model provider's API key: provider keys go only to their model's endpoint, never to an MCP server. Give the server a secret of its own under another name.`,
      );
    }
    const value = await options.secret(secretName);
    if (value === undefined || value === '') {
      throw new McpServerError(`MCP server "${server}" needs the secret ${secretName} (for ${target}), and it is not set: store it with "Software Maker: Set API Key" in VS Code, or set the environment variable ${secretName} for the CLI.`);
    }
    secretRegistry.register(secretName, value);
    resolved[target] = value;
  }
  return resolved;
}

function isTimeout(error: unknown): boolean {
  // McpError RequestTimeout (-32001), or an abort by our deadline.
  return (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === -32001) || (error instanceof Error && error.name === 'TimeoutError');
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

function stderrNote(tail: string): string {
  return tail ? ` Its last output on stderr: ${tail.slice(-500)}` : '';
}
