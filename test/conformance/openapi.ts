/**
 * Validates sandbox exchanges against Pachca's official OpenAPI document with Ajv (a maintained
 * JSON-Schema validator) and ajv-formats: request bodies, query and path parameters of what our
 * client sends, status, content type and body of what the sandbox answers. The only departures
 * from the spec are in spec-quirks.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import type { SandboxExchange } from '../../src/sandbox/index.js';
import { applySchemaQuirks, undocumentedStatus } from './spec-quirks.js';

/**
 * The official spec: ../shared/reference beside the checkout when it is there (the contract the
 * project follows), else the copy vendored next to this file (a clean clone elsewhere, CI).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SPEC_PATH =
  [process.env.PACHCA_OPENAPI_SPEC, join(ROOT, '..', 'shared', 'reference', 'pachca-openapi.en.yaml'), join(ROOT, 'test', 'conformance', 'pachca-openapi.en.yaml')].find(
    (p): p is string => !!p && existsSync(p),
  ) ?? join(ROOT, 'test', 'conformance', 'pachca-openapi.en.yaml');
const SPEC_ID = 'pachca-openapi.json';

// ajv-formats is CommonJS with `exports.default`: under NodeNext the default import is the module.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

type Node = Record<string, any>;

interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema?: Node;
}

/** Every `#/…` reference made absolute, so schemas compiled on their own resolve into the spec. */
function absoluteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(absoluteRefs);
  if (typeof node !== 'object' || node === null) return node;
  const out: Node = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${SPEC_ID}${v}` : absoluteRefs(v);
  return out;
}

export class OpenApiConformance {
  readonly spec: Node;
  readonly #ajv: Ajv;
  readonly #compiled = new Map<unknown, ValidateFunction>();

  /** `quirks: false` reads the spec literally (to show a quirk is needed). */
  constructor(specPath = SPEC_PATH, opts: { quirks?: boolean } = {}) {
    const doc = parse(readFileSync(specPath, 'utf8')) as Node;
    this.spec = (opts.quirks === false ? doc : applySchemaQuirks(doc)) as Node;
    // strict off: OpenAPI's own keywords (example, x-*, discriminator…) sit inside the schemas.
    this.#ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, logger: false });
    addFormats(this.#ajv);
    this.#ajv.addSchema(absoluteRefs({ $id: SPEC_ID, components: this.spec.components }) as Node);
  }

  operation(method: string, template: string): Node | undefined {
    return this.spec.paths?.[template]?.[method.toLowerCase()];
  }

  #validate(schema: unknown, value: unknown, where: string): string[] {
    let fn = this.#compiled.get(schema);
    if (!fn) this.#compiled.set(schema, (fn = this.#ajv.compile(absoluteRefs(schema) as Node)));
    if (fn(value)) return [];
    return (fn.errors ?? []).map((e) => `${where}${e.instancePath || ''} ${e.message ?? e.keyword}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  }

  #parameters(method: string, template: string): Parameter[] {
    const resolve = (p: Node): Parameter => {
      if (typeof p.$ref !== 'string') return p as Parameter;
      const name = p.$ref.split('/').pop()!;
      return this.spec.components.parameters[name] as Parameter;
    };
    const pathItem = this.spec.paths[template] ?? {};
    return [...(pathItem.parameters ?? []), ...(this.operation(method, template)?.parameters ?? [])].map(resolve);
  }

  /** Problems of a request our client sent (path params from `path` against `template`). */
  checkRequest(x: Pick<SandboxExchange, 'method' | 'template' | 'path' | 'query' | 'request'>): string[] {
    const op = this.operation(x.method, x.template);
    if (!op) return [`${x.method} ${x.template} is not an operation of the spec`];
    const problems: string[] = [];
    const params = this.#parameters(x.method, x.template);
    // Path parameters, by position.
    const names = [...x.template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const rx = new RegExp(`^${x.template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '([^/]+)')}/?$`);
    const values = rx.exec(x.path)?.slice(1) ?? [];
    names.forEach((name, i) => {
      const p = params.find((q) => q.in === 'path' && q.name === name);
      if (!p) return problems.push(`path parameter ${name} is not in the spec`);
      problems.push(...this.#validate(p.schema ?? {}, coerce(decodeURIComponent(values[i] ?? ''), p.schema), `path.${name}`));
    });
    // Query parameters: none unknown, required ones present, each valid.
    const query = new URLSearchParams(x.query);
    for (const key of new Set(query.keys())) {
      const p = params.find((q) => q.in === 'query' && q.name === key);
      if (!p) {
        problems.push(`query parameter ${key} is not in the spec`);
        continue;
      }
      const all = query.getAll(key);
      const value = p.schema?.type === 'array' ? all.map((v) => coerce(v, p.schema!.items)) : coerce(all[0]!, p.schema);
      problems.push(...this.#validate(p.schema ?? {}, value, `query.${key}`));
    }
    for (const p of params) if (p.in === 'query' && p.required && !query.has(p.name)) problems.push(`required query parameter ${p.name} is missing`);
    // Body.
    const bodySpec = op.requestBody;
    const text = x.request.body;
    if (!bodySpec) {
      if (text.trim() !== '') problems.push('a body was sent to an operation that takes none');
    } else if (text.trim() === '') {
      if (bodySpec.required) problems.push('the required request body is missing');
    } else {
      const media = bodySpec.content?.['application/json'];
      if (!media) problems.push(`the spec takes no JSON body here (${Object.keys(bodySpec.content ?? {}).join(', ')})`);
      else if (!/^application\/json\b/i.test(x.request.contentType ?? '')) problems.push(`request content-type ${x.request.contentType} is not application/json`);
      else {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return [...problems, 'the request body is not JSON'];
        }
        problems.push(...this.#validate(media.schema ?? {}, body, 'request.body'));
      }
    }
    return problems;
  }

  /** Problems of an answer the sandbox gave. */
  checkResponse(x: Pick<SandboxExchange, 'method' | 'template' | 'response'>): string[] {
    const op = this.operation(x.method, x.template);
    if (!op) return [`${x.method} ${x.template} is not an operation of the spec`];
    const { status, body, contentType } = x.response;
    const declared = op.responses?.[String(status)] ?? op.responses?.default;
    let schema: unknown;
    if (declared) {
      schema = declared.content?.['application/json']?.schema;
      if (!schema) {
        if (body !== undefined && body !== '') return [`${status} answers with no body in the spec, got ${JSON.stringify(body).slice(0, 80)}`];
        return [];
      }
    } else {
      const quirk = undocumentedStatus(x.method, x.template, status);
      if (!quirk) return [`status ${status} is not documented for ${x.method} ${x.template} (${Object.keys(op.responses ?? {}).join(', ')})`];
      schema = quirk.schema;
    }
    if (!/^application\/json\b/i.test(contentType ?? '')) return [`response content-type ${contentType} is not application/json`];
    return this.#validate(schema, body, `response.${status}`);
  }

  /** Problems of one exchange: the answer always, the request when our client sent it. */
  check(x: SandboxExchange, opts: { request: boolean }): string[] {
    return [...(opts.request ? this.checkRequest(x) : []), ...this.checkResponse(x)];
  }
}

/** A query or path string as the schema's type (the wire has strings only). */
function coerce(value: string, schema: Node | undefined): unknown {
  const type = schema?.type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}
