// The panel's one channel to the host, opened before the rest of the bundle runs. app/ready goes out
// at once, so the host reads the run while the browser is still evaluating the views and libraries
// (modules run in import order, and main.ts imports this one first); asked after them, the answer
// started its way only once they were done.
import type { RequestMessage, Snapshot } from '../src/shared/protocol';
import { RpcClient } from './rpc';

interface VsCodeApi {
  postMessage(message: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

// acquireVsCodeApi may be called once per page; everything goes through this one handle.
const vscode = acquireVsCodeApi();

export const rpc = new RpcClient({
  post: (message: RequestMessage) => vscode.postMessage(message),
  listen: (onMessage) => {
    const listener = (event: MessageEvent): void => onMessage(event.data);
    window.addEventListener('message', listener);
    return () => window.removeEventListener('message', listener);
  },
});

/**
 * The host's answer to app/ready. Notifications only follow it, as message tasks of their own, and
 * main.ts subscribes to them in the bundle's first run, before any of them can be delivered.
 */
export const snapshotReply: Promise<Snapshot> = rpc.request('app/ready', {});
