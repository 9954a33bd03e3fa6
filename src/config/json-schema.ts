/**
 * jobs.schema.json and docs/configuration.md, both derived from the zod schema in schema.ts:
 * the file format is written once. Tests fail when the committed copies are stale.
 */
import { z } from 'zod';
import { builtinSources } from '../sources/index.js';
import type { SourceDefinition } from '../sources/index.js';
import { configSchema, DURATION_PATTERN, jobSchema, SOURCE_COMMON_KEYS, sourceCommonShape } from './schema.js';

type Json = Record<string, any>;

const PLUGIN_TYPE_PATTERN = '^(\\.{1,2}/|/|file:|@)|[-/]';

/** Source entries for editors: one alternative per built-in source, plus plugins. */
function jsonSourceEntry(): z.ZodType {
  const common = sourceCommonShape();
  const alternatives: z.ZodType[] = builtinSources().map((def: SourceDefinition) => {
    const type = z.literal(def.name).describe(def.description ?? `Built-in source "${def.name}"`);
    const options = def.options as z.ZodType;
    const shape = (options as any)?._zod?.def?.type === 'object' ? (options as unknown as z.ZodObject).shape : undefined;
    if (shape) return z.strictObject({ ...common, ...shape, type }).describe(def.description ?? def.name);
    return z.intersection(z.looseObject({ ...common, type }), options).describe(def.description ?? def.name);
  });
  alternatives.push(
    z
      .looseObject({
        ...common,
        type: z
          .string()
          .regex(new RegExp(PLUGIN_TYPE_PATTERN))
          .describe('A plugin: "./plugins/x.js" (relative to the config) or an installed npm package name'),
      })
      .describe('A source plugin; its options are checked when the config loads'),
  );
  return z.union(alternatives as [z.ZodType, z.ZodType, ...z.ZodType[]]).describe('A data source: `type` plus that source\'s options');
}

export function configJsonSchema(): Json {
  const schema = configSchema(jobSchema(jsonSourceEntry()));
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-07', unrepresentable: 'any' }) as Json;
  const { $schema, ...rest } = json;
  return {
    $schema,
    title: 'pachca-digest jobs.config.yaml',
    ...rest,
  };
}

// --- Markdown reference ------------------------------------------------------------------------

interface Section {
  path: string;
  description?: string;
  rows: string[];
  extra: string[];
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
/** Same shape, different description: documented once, linked from the other places. */
const shapeKey = (s: Json) => JSON.stringify({ ...s, description: undefined });
const anchor = (path: string) => path.toLowerCase().replace(/[^a-z0-9_ -]/g, '').replace(/\s+/g, '-');

function isDuration(s: Json): boolean {
  return Array.isArray(s.anyOf) && s.anyOf.some((a: Json) => a.pattern === DURATION_PATTERN);
}

let nestedDepth = 0;

function typeText(s: Json | undefined): string {
  if (!s) return 'any';
  if (Array.isArray(s.anyOf) && s.anyOf.some((a: Json) => a.type === 'array')) {
    nestedDepth++;
    try {
      return [...new Set(s.anyOf.map((a: Json) => typeText(a)))].join(' or ');
    } finally {
      nestedDepth--;
    }
  }
  if (isDuration(s)) return 'duration';
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (Array.isArray(s.enum)) return s.enum.map((v: unknown) => `\`${String(v)}\``).join(' | ');
  if (Array.isArray(s.anyOf)) return [...new Set(s.anyOf.map((a: Json) => typeText(a)))].join(' or ');
  if (Array.isArray(s.type)) return s.type.join(' or ');
  switch (s.type) {
    case 'array':
      {
        const inner = typeText(s.items);
        return inner.includes(' or ') ? `list of (${inner})` : `list of ${inner}`;
      }
    case 'object':
      if (s.properties) return nestedDepth > 0 ? `{${Object.keys(s.properties).join(', ')}}` : 'object';
      if (s.additionalProperties && typeof s.additionalProperties === 'object' && Object.keys(s.additionalProperties).length) {
        return `map of ${typeText(s.additionalProperties)}`;
      }
      return 'map';
    case 'string':
      return s.format === 'uri' ? 'URL' : 'string';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'any';
  }
}

function defaultText(s: Json, required: boolean): string {
  if (s.default !== undefined) {
    if (typeof s.default === 'object' && s.default !== null && !Array.isArray(s.default)) return '';
    if (Array.isArray(s.default)) return `\`${s.default.join(', ')}\``;
    return `\`${String(s.default)}\``;
  }
  return required ? '**required**' : '';
}

/** The object schema a property leads to (through arrays and maps), for a sub-section. */
function nested(s: Json): { schema: Json; suffix: string } | undefined {
  if (s.type === 'object' && s.properties) return { schema: s, suffix: '' };
  if (s.type === 'array' && s.items) {
    const inner = nested(s.items);
    return inner ? { schema: inner.schema, suffix: `[]${inner.suffix}` } : undefined;
  }
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') {
    const inner = nested(s.additionalProperties);
    return inner ? { schema: inner.schema, suffix: `.<name>${inner.suffix}` } : undefined;
  }
  if (Array.isArray(s.anyOf) && s.anyOf.every((a: Json) => a.type === 'object' && a.properties?.type)) return { schema: s, suffix: '' };
  return undefined;
}

export function renderConfigReference(): string {
  const root = configJsonSchema();
  const sections: Section[] = [];
  const seen = new Map<string, string>();

  const visit = (schema: Json, path: string) => {
    const key = shapeKey(schema);
    const section: Section = { path, description: schema.description, rows: [], extra: [] };
    sections.push(section);
    seen.set(key, path);
    if (Array.isArray(schema.anyOf)) {
      renderSources(schema, section);
      return;
    }
    const required = new Set<string>(schema.required ?? []);
    const children: Array<[Json, string]> = [];
    for (const [name, prop] of Object.entries<Json>(schema.properties ?? {})) {
      const sub = nested(prop);
      let type = typeText(prop);
      if (sub) {
        const subPath = `${path ? `${path}.` : ''}${name}${sub.suffix}`;
        const already = seen.get(shapeKey(sub.schema));
        const target = already ?? subPath;
        type = `${type} ([${target}](#${anchor(target)}))`;
        if (!already) children.push([sub.schema, subPath]);
      }
      const def = defaultText(prop, required.has(name));
      section.rows.push(`| \`${name}\` | ${esc(type)} | ${esc(def)} | ${esc(prop.description ?? '')} |`);
    }
    for (const [s, p] of children) {
      if (!seen.has(shapeKey(s))) visit(s, p);
    }
  };

  const renderSources = (schema: Json, section: Section) => {
    const alts: Json[] = schema.anyOf;
    const first = alts[0]!;
    section.rows = SOURCE_COMMON_KEYS.map((k) => {
      const prop: Json = first.properties[k];
      return `| \`${k}\` | ${esc(k === 'type' ? 'string' : typeText(prop))} | ${esc(defaultText(prop, k === 'type'))} | ${esc(k === 'type' ? 'Source type: a built-in name below, or a plugin' : (prop.description ?? ''))} |`;
    });
    for (const alt of alts) {
      const t: Json = alt.properties.type;
      const name = t.const !== undefined ? `\`${t.const}\`` : 'plugin';
      section.extra.push(`#### Source ${name}`, '', alt.description ?? '', '');
      const required = new Set<string>(alt.required ?? []);
      const own = Object.entries<Json>(alt.properties).filter(([k]) => !(SOURCE_COMMON_KEYS as readonly string[]).includes(k));
      if (own.length === 0) {
        section.extra.push(t.const !== undefined ? 'No options of its own.' : 'Options are defined by the plugin (`pachca-digest sources` lists them).', '');
        continue;
      }
      section.extra.push('| Key | Type | Default | Description |', '| --- | --- | --- | --- |');
      for (const [k, prop] of own) {
        section.extra.push(`| \`${k}\` | ${esc(typeText(prop))} | ${esc(defaultText(prop, required.has(k)))} | ${esc(prop.description ?? '')} |`);
      }
      section.extra.push('');
    }
  };

  visit(root, '');

  const out: string[] = [
    '<!-- Generated from src/config/schema.ts by renderConfigReference(). Do not edit by hand: run',
    '     PACHCA_DIGEST_UPDATE_GENERATED=1 npx vitest run test/config/generated.test.ts -->',
    '',
    '# Configuration reference (`jobs.config.yaml`, `version: 1`)',
    '',
    'The config is YAML. The file is found as `--config PATH`, else `$PACHCA_DIGEST_CONFIG`, else',
    '`jobs.config.yaml` in the working directory. Editors with the YAML language server validate and',
    'complete it when the file starts with `# yaml-language-server: $schema=./jobs.schema.json`.',
    '',
    '- **Durations** are strings such as `"30s"`, `"10m"`, `"1h30m"`, `"500ms"`, `"2d"`, or a number of seconds.',
    '- **Environment variables**: `${VAR}` or `${VAR:-default}` inside any string value; `$${` is a literal `${`.',
    '  Values come from the environment, then `.env` beside the config, then `.env` in the working directory',
    '  (the real environment wins). An unquoted value that is only a number or `true`/`false` after',
    '  substitution keeps that type, so `chat_id: ${CHAT_ID}` works.',
    '- **Environment overrides**: a non-empty `PACHCA_TOKEN`, `PACHCA_API_URL` and `PACHCA_DIGEST_STATE`',
    '  replace `pachca.token`, `pachca.base_url` and `state.url`.',
    '- Unknown keys are errors. Relative paths are relative to the directory of the config file.',
    '- A job\'s own value wins over `defaults`; `target` fields are merged over `defaults.target`.',
    '',
  ];
  for (const s of sections) {
    const title = s.path || 'Top level';
    out.push(`## ${title}`, '');
    if (s.description) out.push(s.description, '');
    if (s.rows.length) out.push('| Key | Type | Default | Description |', '| --- | --- | --- | --- |', ...s.rows, '');
    if (s.extra.length) out.push(...s.extra);
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
