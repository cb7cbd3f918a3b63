// Entry of the panel's browser bundle (dist/webview.js; the CSS imports become dist/webview.css).
// hostChannel first: it takes over the page's channel to the host (its first script asked for the snapshot).
import { rpc, snapshotReply } from './hostChannel';
import '@vscode/codicons/dist/codicon.css';
import './styles.css';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import { PanelController } from './controller';
import { Store } from './store';
import { SmApp } from './views/app';

// Live events are folded as they arrive and drawn once per frame: a burst of them costs one render.
const store = new Store({ frame: (flush) => requestAnimationFrame(flush) });
// A timer set from a frame's rAF callback runs after that frame is painted.
const controller = new PanelController(rpc, store, { afterPaint: (load) => requestAnimationFrame(() => setTimeout(load, 0)) });

const app = new SmApp();
app.store = store;
app.controller = controller;

window.addEventListener('unhandledrejection', (event) => {
  store.reportError(`Unexpected error in the panel: ${event.reason instanceof Error ? event.reason.message : String(event.reason)}`);
});

// The app is put on the page once the host's snapshot is in (or its error): put there before, its
// first frame said "No run yet" while the run was on its way, and styling and laying that out kept
// the page from the snapshot's frame (a tenth of a large run's first render).
const loading = document.createElement('p');
loading.className = 'panel-loading muted';
loading.setAttribute('role', 'status');
loading.textContent = 'Loading…';
document.body.append(loading);
void controller.start(snapshotReply).finally(() => loading.replaceWith(app));
