import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import ts from 'typescript';
import { REPO } from './helpers';

// Each layer is compiled with the globals it may use (its own tsconfig.json: lib and types), so a
// webview file using process or core using document does not compile. A probe file placed in the
// layer's folder is checked with the tsconfig an editor, eslint and tsc -b pick for files there.
const PROBES = {
  process: 'process.env.HOME;',
  Buffer: "Buffer.from('x');",
  document: 'document.title;',
} as const;
type Global = keyof typeof PROBES;

const REFUSED: Record<string, readonly Global[]> = {
  'src/shared': ['process', 'Buffer', 'document'],
  webview: ['process', 'Buffer'],
  'src/core': ['document'],
  'src/cli': ['document'],
  'src/host': ['document'],
};

describe('layer tsconfigs (what each layer may use)', function () {
  this.timeout(120_000);

  for (const [layer, refused] of Object.entries(REFUSED)) {
    it(`${layer} refuses ${refused.join(', ')} and allows the rest`, () => {
      assert.deepEqual(refusedGlobals(join(REPO, layer)), [...refused].sort());
    });
  }
});

const parsedFiles = new Map<string, ts.SourceFile | undefined>();

/** The probe globals a file in `dir` cannot use, under the nearest tsconfig.json. */
function refusedGlobals(dir: string): Global[] {
  const configPath = ts.findConfigFile(dir, ts.sys.fileExists);
  assert.ok(configPath, `no tsconfig.json for ${dir}`);
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, { noEmit: true }, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (diagnostic) => assert.fail(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')) });
  assert.ok(parsed, `unreadable ${configPath}`);
  const globals = Object.keys(PROBES) as Global[];
  const probePath = join(dir, '__layer_probe__.ts');
  const probeText = ['export {};', ...globals.map((name) => PROBES[name])].join('\n');
  const host = ts.createCompilerHost(parsed.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, language, ...rest) => {
    if (fileName === probePath) return ts.createSourceFile(fileName, probeText, language);
    // The lib and @types files are the same for every layer: parsed once.
    const key = `${fileName}\0${JSON.stringify(language)}`;
    if (!parsedFiles.has(key)) parsedFiles.set(key, getSourceFile(fileName, language, ...rest));
    return parsedFiles.get(key);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => fileName === probePath || fileExists(fileName);
  const program = ts.createProgram({ rootNames: [probePath], options: { ...parsed.options, composite: false }, host });
  const probe = program.getSourceFile(probePath);
  assert.ok(probe);
  const failingLines = new Set(program.getSemanticDiagnostics(probe).map((diagnostic) => probe.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line));
  return globals.filter((_name, index) => failingLines.has(index + 1)).sort();
}
