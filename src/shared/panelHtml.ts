/**
 * The webview's page: the channel to the host, inline (EARLY_CHANNEL_SCRIPT), then one stylesheet
 * and one script, each allowed by nonce and source.
 */
export interface PanelPage {
  /** The webview's resource origin (`webview.cspSource` in VS Code). */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  surface: string;
}

/** What the page's first script leaves for the bundle (webview/hostChannel.ts) on `window.softwareMakerChannel`. */
export interface EarlyChannel {
  /** The page's one VS Code API handle (acquireVsCodeApi may be called once per page). */
  api: { postMessage(message: unknown): void };
  /**
   * Hands every message the host posted, decoded, to `onMessage`: first, in a microtask, those that
   * came before, in order; then each as it comes. One listener; returns its unsubscribe.
   */
  listen(onMessage: (message: unknown) => void): () => void;
}

/** The id of the app/ready request the first script sends; the bundle's own requests count from 1. */
export const EARLY_READY_ID = 0;

// Inline, so it runs as the head is parsed, with no fetch before it: the host reads the run while
// the browser fetches and evaluates the stylesheet and the bundle. The host's messages are JSON
// bytes (shared/jsonBytes.ts); decoding them here means a reply that comes before the bundle is
// parsed while the page would otherwise wait for it. Anything else posted to the page is handed on
// as it is (the bundle's client ignores what is not the protocol's).
const EARLY_CHANNEL_SCRIPT = `(() => {
  const api = acquireVsCodeApi();
  const held = [];
  // undefined: holding; a function: handing on; null: the bundle has stopped listening.
  let deliver;
  window.addEventListener('message', (event) => {
    if (deliver === null) return;
    let message = event.data;
    if (message instanceof ArrayBuffer) {
      try {
        message = JSON.parse(new TextDecoder().decode(message));
      } catch (error) {
        console.error('Software Maker: a message from the extension is not JSON: ' + error.message);
        return;
      }
    }
    if (deliver) deliver(message);
    else held.push(message);
  });
  window.softwareMakerChannel = {
    api,
    listen(onMessage) {
      let listening = true;
      queueMicrotask(() => {
        for (const message of held.splice(0)) if (listening) onMessage(message);
        if (listening) deliver = onMessage;
      });
      return () => { listening = false; deliver = null; held.length = 0; };
    },
  };
  api.postMessage({ kind: 'request', id: ${EARLY_READY_ID}, method: 'app/ready', params: {} });
})();`;

export function panelHtml({ cspSource, nonce, scriptUri, styleUri, surface }: PanelPage): string {
  // Lit and @vscode-elements style through adoptedStyleSheets and CSSOM, which style-src does not
  // govern, so no 'unsafe-inline' is needed. The stylesheet link carries the id vscode-icon looks
  // for (it links the codicon CSS into its shadow roots).
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<script nonce="${nonce}">${EARLY_CHANNEL_SCRIPT}</script>
<link rel="stylesheet" id="vscode-codicon-stylesheet" nonce="${nonce}" href="${styleUri}">
<title>Software Maker</title>
</head>
<body data-surface="${surface}">
<script nonce="${nonce}" src="${scriptUri}"></script>
</body>
</html>`;
}
