/**
 * Validates sandbox exchanges against Pachca's official OpenAPI document with Ajv (a maintained
 * JSON-Schema validator) and ajv-formats: request bodies, query and path parameters of what our
 * client sends, status, content type and body of what the sandbox answers. The only departures
 * from the spec are in spec-quirks.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
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
    this.#ajv = new Ajv({ strict: false, allErrors: true, verbose: true, validateSchema: false, logger: false });
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
    return this.#explain(fn.errors ?? [], where);
  }

  /**
   * Ajv's errors as lines. A failed anyOf/oneOf would list every branch's errors (a webhook
   * payload has ten branches): it is told as one line and the errors of its closest branch.
   */
  #explain(errors: ErrorObject[], where: string): string[] {
    const unions = errors.filter((e) => (e.keyword === 'anyOf' || e.keyword === 'oneOf') && Array.isArray(e.parentSchema?.[e.keyword]) && !('passingSchemas' in e.params && e.params.passingSchemas));
    const under = (path: string, root: string) => path === root || path.startsWith(`${root}/`);
    const out: string[] = [];
    for (const e of errors) {
      const at = `${where}${e.instancePath || ''}`;
      // Part of an enclosing union (Ajv reports a union after its branches' errors): told by it.
      const enclosed = unions.some(
        (u) => u !== e && under(e.instancePath, u.instancePath) && (!unions.includes(e) || e.instancePath !== u.instancePath || errors.indexOf(u) > errors.indexOf(e)),
      );
      if (enclosed) continue;
      if (!unions.includes(e)) {
        out.push(`${at} ${e.message ?? e.keyword}${e.params && Object.keys(e.params).length > 0 ? ` ${JSON.stringify(e.params)}` : ''}`);
        continue;
      }
      const branches = e.parentSchema![e.keyword] as Node[];
      const tries = branches.map((b, i) => ({ name: typeof b.$ref === 'string' ? b.$ref.split('/').pop()! : `#${i}`, problems: this.#validate(b, e.data, at) }));
      // Closest: fewest errors, a branch of another kind (its `type`/`event` enum fails) last.
      const score = (problems: string[]) => problems.length + 100 * problems.filter((p) => /^\/[^/\s]+ must be equal to (one of the allowed values|constant)/.test(p.slice(at.length))).length;
      const closest = tries.reduce((a, b) => (score(b.problems) < score(a.problems) ? b : a));
      out.push(`${at} matches none of the ${branches.length} schemas of ${e.keyword}; the closest is ${closest.name}:`, ...closest.problems.map((p) => `  ${p}`));
    }
    return out;
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

  /** Whether the spec (or a quirk) says what `status` answers to this operation look like. */
  documentsStatus(method: string, template: string, status: number): boolean {
    const responses = this.operation(method, template)?.responses ?? {};
    return String(status) in responses || 'default' in responses || undocumentedStatus(method, template, status) !== null;
  }

  /**
   * Problems of a multipart form sent to the direct upload URL (the spec's `POST /direct_url`):
   * the content type, and the form's text fields (the file as a string) against its schema.
   */
  checkMultipartRequest(template: string, x: Pick<SandboxExchange, 'request'> & { request: { truncated?: true } }): string[] {
    const media = this.operation('POST', template)?.requestBody?.content?.['multipart/form-data'];
    if (!media) return [`POST ${template} takes no multipart/form-data body in the spec`];
    const boundary = /^multipart\/form-data;.*\bboundary="?([^";]+)"?/i.exec(x.request.contentType ?? '')?.[1];
    if (!boundary) return [`request content-type ${x.request.contentType} is not multipart/form-data with a boundary`];
    const form: Record<string, string> = {};
    for (const part of x.request.body.split(`--${boundary}`).slice(1)) {
      const headEnd = part.indexOf('\r\n\r\n');
      if (headEnd < 0) continue;
      const name = /\bname="([^"]*)"/i.exec(part.slice(0, headEnd))?.[1];
      if (name === undefined) continue;
      form[name] = part.slice(headEnd + 4).replace(/\r\n$/, '');
    }
    // A body cut by the recorder (a big file) still has every field: the file part comes last.
    if (x.request.truncated && form.file === undefined && /\bname="file"/.test(x.request.body)) form.file = '';
    return this.#validate(media.schema ?? {}, form, 'request.form');
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
