// API keys live in VS Code's SecretStorage (the OS keychain), never in settings, logs or events.
// A model names its key with `apiKeyName`; the key is stored under a namespaced secret id.
import * as vscode from 'vscode';

/** Prefix of every secret id this extension stores, so keys of other extensions never collide. */
const SECRET_PREFIX = 'softwareMaker.apiKey.';

/** The SecretStorage id of a key name (tests store keys under it). */
export function apiKeySecretId(name: string): string {
  return `${SECRET_PREFIX}${name}`;
}

/** The HostPorts.secret function: the stored key for a name, or undefined. */
export function createSecretLookup(secrets: vscode.SecretStorage): (name: string) => Promise<string | undefined> {
  return async (name) => {
    const value = await secrets.get(apiKeySecretId(name));
    return value ? value : undefined;
  };
}

/**
 * Asks for a key and stores it (the "Set API Key" command). `names` are the apiKeyName values of
 * the configured models; the user may also type another name. An empty key deletes the stored one.
 */
export async function promptAndStoreSecret(secrets: vscode.SecretStorage, names: readonly string[]): Promise<void> {
  const name = await pickName(names);
  if (!name) return;
  await promptAndStoreKey(secrets, name);
}

/** Asks for the key of one name and stores it (an empty answer deletes it). Resolves true when a key was stored. */
export async function promptAndStoreKey(secrets: vscode.SecretStorage, name: string): Promise<boolean> {
  const key = await vscode.window.showInputBox({
    title: `Software Maker: API key "${name}"`,
    prompt: 'Paste the key. It is kept in the OS keychain (SecretStorage), never in settings. Leave empty to delete the stored key.',
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return false;
  if (key.trim() === '') {
    await secrets.delete(apiKeySecretId(name));
    void vscode.window.showInformationMessage(`Software Maker: the API key "${name}" was deleted.`);
    return false;
  }
  await secrets.store(apiKeySecretId(name), key.trim());
  void vscode.window.showInformationMessage(`Software Maker: the API key "${name}" is stored.`);
  return true;
}

async function pickName(names: readonly string[]): Promise<string | undefined> {
  const other = 'Another name…';
  if (names.length > 0) {
    const picked = await vscode.window.showQuickPick([...names, other], {
      title: 'Software Maker: Set API Key',
      placeHolder: 'Which key? (the apiKeyName of a model in softwareMaker.models)',
    });
    if (picked !== other) return picked;
  }
  const typed = await vscode.window.showInputBox({
    title: 'Software Maker: Set API Key',
    prompt: 'Name of the key, as in the apiKeyName of a model in softwareMaker.models',
    placeHolder: 'e.g. OPENROUTER_API_KEY',
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() ? undefined : 'Give the key a name.'),
  });
  return typed?.trim() || undefined;
}
