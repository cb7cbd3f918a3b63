// Writes package.json's settings (`contributes.configuration`) and its untrusted-workspace
// restrictions from src/shared/settingsSchema.ts. Run it after changing the settings schema:
//   npm run gen:config
// The rest of package.json is kept as it is (2-space JSON, as npm writes it).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configContribution } from '../src/host/settingsContribution';

const path = join(__dirname, '..', 'package.json');
const manifest = JSON.parse(readFileSync(path, 'utf8')) as {
  contributes: { configuration?: unknown };
  capabilities: { untrustedWorkspaces: { restrictedConfigurations?: string[] } };
};
const { configuration, restrictedConfigurations } = configContribution();
manifest.contributes.configuration = configuration;
manifest.capabilities.untrustedWorkspaces.restrictedConfigurations = restrictedConfigurations;
writeFileSync(path, JSON.stringify(manifest, null, 2) + '\n');
process.stdout.write(`package.json: ${Object.keys(configuration.properties).length} settings written.\n`);
