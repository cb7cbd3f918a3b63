// The MCP fixture server (test/fixtures/mcp/server.mjs, built with the SDK's server classes) as tests start it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { McpServerSpec } from '../../src/shared/runConfig';
import { REPO } from './helpers';

export const MCP_SERVER = join(REPO, 'test/fixtures/mcp/server.mjs');

export function stdioServer(env: Record<string, string> = {}, extra: Partial<McpServerSpec> = {}): McpServerSpec {
  return { type: 'stdio', command: process.execPath, args: [MCP_SERVER, 'stdio'], env, ...extra } as McpServerSpec;
}

/** The fixture server on a free localhost port, over streamable HTTP. */
export async function startHttpServer(env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [MCP_SERVER, 'http'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`the MCP fixture server exited (${code}) before listening`)));
  });
  return { url: `http://127.0.0.1:${port}/mcp`, child };
}

