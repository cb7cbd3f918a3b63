/** The webview's page: one script and one stylesheet, each allowed by nonce and source, nothing inline. */
export interface PanelPage {
  /** The webview's resource origin (`webview.cspSource` in VS Code). */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  surface: string;
}

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
<link rel="stylesheet" id="vscode-codicon-stylesheet" nonce="${nonce}" href="${styleUri}">
<title>Software Maker</title>
</head>
<body data-surface="${surface}">
<script nonce="${nonce}" src="${scriptUri}"></script>
</body>
</html>`;
}
