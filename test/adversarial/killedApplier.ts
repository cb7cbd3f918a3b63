// Child process of the kill-while-applying attack: applies one edit and stops where the new text
// sits in a temp file, not yet renamed into place, printing the temp path; the test kills it there.
import { sha256 } from '../../src/core/edits/hunks';
import { NodeEditApplier } from '../../src/core/edits/nodeApplier';
import type { FileWrite } from '../../src/core/ports';

const [root, json] = process.argv.slice(2);
const write = JSON.parse(json!) as { path: string; kind: 'create' | 'modify' | 'rename'; from?: string; before: string; after: string };
const file: FileWrite =
  write.kind === 'rename'
    ? { path: write.path, kind: 'rename', from: write.from!, baseHash: sha256(write.before), newText: write.after, newHash: sha256(write.after) }
    : { path: write.path, kind: write.kind, baseHash: sha256(write.before), newText: write.after, newHash: sha256(write.after) };
const applier = new NodeEditApplier(root!, {
  tempWritten: async (temp) => {
    process.stdout.write(`TEMP ${temp}\n`);
    await new Promise(() => undefined);
  },
});
void applier.apply([file]);
