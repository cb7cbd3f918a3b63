// The panel's one channel to the host. The page's first script (shared/panelHtml.ts) has asked for
// the snapshot already, and decodes and holds what the host posts; this module, the bundle's first,
// takes its API handle and its messages over.
import { EARLY_READY_ID, type EarlyChannel } from '../src/shared/panelHtml';
import type { RequestMessage, Snapshot } from '../src/shared/protocol';
import { RpcClient } from './rpc';

declare global {
  interface Window {
    softwareMakerChannel?: EarlyChannel;
  }
}

const channel = window.softwareMakerChannel;
if (!channel) throw new Error('Software Maker: the panel page has no channel to the extension (its first script did not run).');

export const rpc = new RpcClient({
  post: (message: RequestMessage) => channel.api.postMessage(message),
  // Held messages come in a microtask after this run of the bundle: by then the snapshot's answer is
  // awaited and main.ts has subscribed to the notifications that follow it.
  listen: (onMessage) => channel.listen(onMessage),
});

/** The host's answer to app/ready, which the page's first script asked for. */
export const snapshotReply: Promise<Snapshot> = rpc.answerTo(EARLY_READY_ID, 'app/ready');
