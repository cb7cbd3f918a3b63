// Lint rules that hold the layer boundaries of docs/architecture.md.
import tseslint from 'typescript-eslint';

const noVscode = {
  name: 'vscode',
  message: 'Only src/host may import vscode: core reaches the editor through its ports (src/core/ports.ts).',
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', 'samples/**', '**/*.mjs', '**/*.js'] },
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
    files: ['src/core/**/*.ts', 'src/shared/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noVscode], patterns: [{ group: ['**/host/**'], message: 'core, shared and cli never depend on the VS Code host.' }] }],
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
