// Which browser executable the web tester drives. Never a downloaded one: the user's setting, then an
// installed Chrome or Edge (where their installers put them), then well-known Chromium paths.
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

export const BROWSER_PATH_SETTING = 'webTester.browserPath';

export class BrowserNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrowserNotFoundError';
  }
}

/** Where Chrome and Edge install themselves (the paths Playwright's `chrome`/`msedge` channels look at). */
export function channelPaths(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string[] {
  switch (platform) {
    case 'darwin':
      return [
        '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
        '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
      ];
    case 'win32': {
      const roots = [env.LOCALAPPDATA, env.PROGRAMFILES, env['PROGRAMFILES(X86)']].filter((root): root is string => Boolean(root));
      return roots.flatMap((root) => [join(root, 'Google', 'Chrome', 'Application', 'chrome.exe'), join(root, 'Microsoft', 'Edge', 'Application', 'msedge.exe')]);
    }
    default:
      return ['/opt/google/chrome/chrome', '/opt/microsoft/msedge/msedge'];
  }
}

/** Chromium and Chrome as distributions package them. */
export const WELL_KNOWN_CHROMIUM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/microsoft-edge',
  '/snap/bin/chromium',
] as const;

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The executable to launch. A configured path that is not there is an error of its own (falling
 * back would test with a browser the user did not choose).
 */
export async function resolveBrowserExecutable(
  configured: string | undefined,
  options: { candidates?: readonly string[]; exists?: (path: string) => Promise<boolean> } = {},
): Promise<string> {
  const exists = options.exists ?? isExecutable;
  if (configured) {
    if (await exists(configured)) return configured;
    throw new BrowserNotFoundError(`The browser set in ${BROWSER_PATH_SETTING} (${configured}) is not an executable file. Point ${BROWSER_PATH_SETTING} at Chrome or Chromium.`);
  }
  const candidates = options.candidates ?? [...channelPaths(), ...WELL_KNOWN_CHROMIUM_PATHS];
  for (const candidate of candidates) if (await exists(candidate)) return candidate;
  throw new BrowserNotFoundError(
    `No Chrome, Edge or Chromium found for the web tester (looked at ${candidates.join(', ')}); no browser is downloaded. Install one, or set ${BROWSER_PATH_SETTING} to its executable.`,
  );
}
