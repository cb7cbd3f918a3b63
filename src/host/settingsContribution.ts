// package.json's `contributes.configuration` and the untrusted-workspace restrictions, generated
// from the settings schema (src/shared/settingsSchema.ts). scripts/gen-config.ts writes them into
// package.json; test/unit/configContribution.test.ts fails when package.json and the schema differ.
import { z } from 'zod';
import { RESTRICTED_IN_UNTRUSTED_WORKSPACES, SETTINGS_SECTION, settingsSchema } from '../shared/settingsSchema';

type JsonSchema = Record<string, unknown>;

export interface ConfigContribution {
  /** `contributes.configuration`. */
  configuration: { title: string; properties: Record<string, JsonSchema> };
  /** `capabilities.untrustedWorkspaces.restrictedConfigurations`. */
  restrictedConfigurations: string[];
}

// Keys in the order package.json has always written them, so the file reads as before.
const KEY_ORDER = [
  'type',
  'title',
  'default',
  'enum',
  'enumDescriptions',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'minLength',
  'minItems',
  'uniqueItems',
  'format',
  'pattern',
  'patternErrorMessage',
  'order',
  'scope',
  'required',
  'additionalProperties',
  'description',
  'markdownDescription',
  'items',
  'oneOf',
  'properties',
  'anyOf',
];

export function configContribution(): ConfigContribution {
  const schema = z.toJSONSchema(settingsSchema, {
    target: 'draft-07',
    // Settings are written by people: the input side (defaults, optional fields) is what they type.
    io: 'input',
    override: ({ jsonSchema }) => {
      const node = jsonSchema as JsonSchema;
      // VS Code's settings editor offers `enum` values; a literal is a one-value enum.
      if ('const' in node) {
        node.enum = [node.const];
        delete node.const;
      }
      // zod bounds every integer to the safe range; a setting needs no such bound spelled out.
      if (node.type === 'integer') {
        if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
        if (node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
      }
      // The Settings UI shows markdownDescription when there is one; the plain text would only be noise.
      if ('markdownDescription' in node) delete node.description;
    },
  }) as JsonSchema;
  const properties = schema.properties as Record<string, JsonSchema>;
  return {
    configuration: {
      title: 'Software Maker',
      properties: Object.fromEntries(Object.entries(properties).map(([key, value]) => [`${SETTINGS_SECTION}.${key}`, ordered(value) as JsonSchema])),
    },
    restrictedConfigurations: RESTRICTED_IN_UNTRUSTED_WORKSPACES.map((key) => `${SETTINGS_SECTION}.${key}`),
  };
}

/** A copy with every schema's keys in KEY_ORDER (property names and defaults keep their own order). */
function ordered(value: unknown, isSchema = true): unknown {
  if (Array.isArray(value)) return value.map((item) => ordered(item, isSchema));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as JsonSchema);
  if (isSchema) {
    const rank = (key: string): number => (KEY_ORDER.includes(key) ? KEY_ORDER.indexOf(key) : KEY_ORDER.length);
    entries.sort(([a], [b]) => rank(a) - rank(b));
  }
  return Object.fromEntries(
    entries.map(([key, child]) => {
      if (!isSchema) return [key, ordered(child, true)];
      // `properties` maps names to schemas; `default` and `enum` hold data, not schemas.
      if (key === 'properties') return [key, ordered(child, false)];
      if (key === 'default' || key === 'enum' || key === 'required' || key === 'enumDescriptions') return [key, child];
      return [key, ordered(child, true)];
    }),
  );
}
