/**
 * Option listings for `pachca-digest sources` and the config JSON Schema, derived from each
 * source's zod schema so the docs can never drift from what is validated.
 */
import { z } from 'zod';
import type { SourceDefinition } from './define.js';

export interface SourceOptionInfo {
  name: string;
  /** Short type text: `string`, `number`, `json|yaml|csv`, `string[]`, `record<string>`, … */
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

type JsonSchema = Record<string, any>;

/** JSON Schema (draft 2020-12) of the options as written in YAML (`io: input`: defaults optional). */
export function sourceOptionsJsonSchema(def: SourceDefinition): JsonSchema | undefined {
  try {
    const schema = z.toJSONSchema(def.options as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    delete schema.$schema;
    return schema;
  } catch {
    // A plugin built with another zod (v3) cannot be converted; it is still validated at load.
    return undefined;
  }
}

export function describeSourceOptions(def: SourceDefinition): SourceOptionInfo[] {
  const schema = sourceOptionsJsonSchema(def);
  if (!schema || typeof schema.properties !== 'object') return [];
  const required = new Set<string>(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(schema.properties as Record<string, JsonSchema>).map(([name, prop]) => {
    const info: SourceOptionInfo = { name, type: typeText(prop, schema), required: required.has(name) };
    if (prop.default !== undefined) info.default = prop.default;
    const description = prop.description ?? firstDescription(prop);
    if (description) info.description = description;
    return info;
  });
}

function firstDescription(prop: JsonSchema): string | undefined {
  for (const alt of [...(prop.anyOf ?? []), ...(prop.oneOf ?? [])]) {
    if (alt?.description) return alt.description;
  }
  return undefined;
}

function typeText(s: JsonSchema | undefined, root: JsonSchema, depth = 0): string {
  if (!s || depth > 4) return 'any';
  if (typeof s.$ref === 'string') {
    const key = s.$ref.split('/').pop() ?? '';
    return typeText(root.$defs?.[key] ?? root.definitions?.[key], root, depth + 1);
  }
  if (Array.isArray(s.enum)) return s.enum.map((v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))).join('|');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts)) {
    const parts = alts.map((a: JsonSchema) => typeText(a, root, depth + 1)).filter((t: string) => t !== 'null');
    return [...new Set(parts)].join(' | ') || 'null';
  }
  const type = Array.isArray(s.type) ? s.type.filter((t: string) => t !== 'null')[0] : s.type;
  switch (type) {
    case 'array':
      return `${typeText(s.items, root, depth + 1)}[]`;
    case 'object':
      if (s.properties && Object.keys(s.properties).length > 0) return 'object';
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        return `record<${typeText(s.additionalProperties, root, depth + 1)}>`;
      }
      return 'object';
    case 'integer':
      return 'integer';
    case undefined:
      return 'any';
    default:
      return String(type);
  }
}
