// The Browser port over playwright-core, headless. playwright-core is loaded only when a web tester
// task launches a browser (it is large, and most runs never need it); it never downloads a browser:
// the executable comes from resolveBrowserExecutable.
import { createRequire } from 'node:module';
import type { Browser, BrowserLaunchOptions, BrowserPage, BrowserSession } from '../ports';
import { childEnvironment } from '../secrets';
import { resolveBrowserExecutable } from './browserPath';

type Playwright = typeof import('playwright-core');
type PwPage = import('playwright-core').Page;

export class PlaywrightBrowser implements Browser {
  // require, not import(): the bundles keep it external and Node's CJS resolution finds it beside
  // them (dist/node_modules) or through NODE_PATH; an ESM import() would not look at NODE_PATH.
  constructor(private readonly load: () => Promise<Playwright> = async () => createRequire(__filename)('playwright-core') as Playwright) {}

  async launch(options: BrowserLaunchOptions): Promise<BrowserSession> {
    const executablePath = await resolveBrowserExecutable(options.executablePath);
    const { chromium } = await this.load();
    // Playwright hands the browser the whole process.env unless given one: never the provider keys.
    const env = Object.fromEntries(Object.entries(childEnvironment()).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-first-run', '--no-default-browser-check'], env });
    try {
      const context = await browser.newContext({ viewport: { width: 1024, height: 720 }, serviceWorkers: 'block', acceptDownloads: false });
      const origin = new URL(options.allowedOrigin).origin;
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === origin) return route.continue();
        return route.abort('blockedbyclient');
      });
      return {
        newPage: async () => new PlaywrightPage(await context.newPage()),
        close: () => browser.close(),
      };
    } catch (error) {
      await browser.close().catch(() => undefined);
      throw error;
    }
  }
}

class PlaywrightPage implements BrowserPage {
  constructor(private readonly page: PwPage) {}

  async goto(url: string, timeoutMs: number): Promise<void> {
    const response = await this.page.goto(url, { timeout: timeoutMs, waitUntil: 'load' });
    if (response && response.status() >= 400) throw new Error(`${url} answered HTTP ${response.status()}`);
  }

  async fill(selector: string, value: string, timeoutMs: number): Promise<void> {
    await this.page.locator(selector).first().fill(value, { timeout: timeoutMs });
  }

  async click(selector: string, timeoutMs: number): Promise<void> {
    await this.page.locator(selector).first().click({ timeout: timeoutMs });
  }

  async waitForText(text: string, selector: string | undefined, timeoutMs: number): Promise<void> {
    await this.page.locator(selector ?? 'body', { hasText: text }).first().waitFor({ state: 'visible', timeout: timeoutMs });
  }

  async readText(selector: string | undefined): Promise<string> {
    const locator = this.page.locator(selector ?? 'body').first();
    if ((await locator.count()) === 0) return '';
    return (await locator.innerText({ timeout: 1000 }).catch(() => '')).trim();
  }

  async screenshot(): Promise<Uint8Array> {
    return this.page.screenshot({ type: 'png' });
  }

  url(): string {
    return this.page.url();
  }
}
