// Entry of the panel's browser bundle (dist/webview.js; the CSS imports become dist/webview.css).
import '@vscode/codicons/dist/codicon.css';
import './styles.css';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import type { RequestMessage } from '../src/shared/protocol';
import { PanelController } from './controller';
import { RpcClient } from './rpc';
import { Store } from './store';
import { SmApp } from './views/app';

interface VsCodeApi {
  postMessage(message: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

// acquireVsCodeApi may be called once per page; everything goes through this one handle.
const vscode = acquireVsCodeApi();

const rpc = new RpcClient({
  post: (message: RequestMessage) => vscode.postMessage(message),
  listen: (onMessage) => {
    const listener = (event: MessageEvent): void => onMessage(event.data);
    window.addEventListener('message', listener);
    return () => window.removeEventListener('message', listener);
  },
});
// Live events are folded as they arrive and drawn once per frame: a burst of them costs one render.
const store = new Store({ frame: (flush) => requestAnimationFrame(flush) });
const controller = new PanelController(rpc, store);

const app = new SmApp();
app.store = store;
app.controller = controller;
document.body.append(app);

window.addEventListener('unhandledrejection', (event) => {
  store.reportError(`Unexpected error in the panel: ${event.reason instanceof Error ? event.reason.message : String(event.reason)}`);
});

void controller.start();
