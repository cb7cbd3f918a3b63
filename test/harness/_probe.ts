import { writeFileSync } from 'node:fs';
import { CodeServer, startBrowser } from './codeServer';
import { openWorkbench, runCommand, answerInputBox } from './workbench';
async function main() {
  const server = await CodeServer.start({ vsix: ['/tmp/sm-fake.vsix'] });
  const b = await startBrowser();
  try {
    await openWorkbench(b.page, server.workbenchUrl('/tmp/fake-samples/calculator'));
    await b.page.locator('.part.activitybar [aria-label^="Software Maker"]').first().waitFor();
    await runCommand(b.page, 'Software Maker: New Goal');
    await answerInputBox(b.page, 'x', 'goal');
    await b.page.locator('.part.editor .monaco-diff-editor').first().waitFor();
    await runCommand(b.page, 'Software Maker: Accept Proposed Edit');
    await b.page.locator('.part.panel').getByText(/Software Maker/).first().waitFor();
    writeFileSync('/tmp/probe/panel.html', await b.page.locator('.part.panel').evaluate((e) => e.outerHTML));
  } finally { await b.close(); await server.stop(); }
}
void main();
