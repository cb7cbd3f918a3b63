// Lint rules that hold the layer boundaries of docs/architecture.md.
import tseslint from 'typescript-eslint';

const noVscode = {
  name: 'vscode',
  message: 'Only src/host may import vscode: core reaches the editor through its ports (src/core/ports.ts).',
};

const noHost = { group: ['**/host/**'], message: 'Only the VS Code host depends on the VS Code host.' };

// src/core/index.ts is the engine's front door, src/core/node.ts its Node adapters: hosts and tools
// import nothing else of core, so what they depend on is one short list (tests may reach inside).
const coreFrontDoor = {
  regex: '(^|/)core/(?!(index|node)$)',
  message: 'Import the engine through its front door: src/core (index.ts), or src/core/node for the Node adapters. If a host really needs something else, export it there.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', 'samples/**', '**/*.mjs', '**/*.cjs', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noVscode],
        patterns: [{ group: ['**/host/**', '**/cli/**'], message: 'src/core never depends on its hosts (the VS Code host, the CLI): they depend on it.' }],
      }],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noVscode], patterns: [noHost, coreFrontDoor] }],
    },
  },
  {
    files: ['bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noVscode], patterns: [coreFrontDoor] }],
    },
  },
  {
    files: ['src/host/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [coreFrontDoor] }],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noVscode],
        patterns: [
          { group: ['**/core/**', '**/host/**', '**/cli/**'], message: 'src/shared depends on nothing but itself.' },
          { group: ['node:*', 'fs', 'path', 'child_process', 'os'], message: 'src/shared runs in the webview too: no Node APIs.' },
        ],
      }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noVscode],
        patterns: [
          { group: ['**/src/core/**', '**/src/host/**', '**/src/cli/**'], message: 'webview/ may import only src/shared.' },
          { group: ['node:*'], message: 'webview/ runs in a browser.' },
        ],
      }],
    },
  },
);
