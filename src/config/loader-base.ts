/**
 * The loader's first layer: its state, problem reporting (every problem is collected, scrubbed of
 * secrets and thrown once by `fail`) and template compilation. The later layers (loader-targets.ts,
 * loader-sections.ts, loader-jobs.ts, then `Loader` in load.ts) extend it, one stage per file.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { z } from 'zod';
import { DigestError } from '../errors.js';
import { createTemplateEngine, lintMessage } from '../render/index.js';
import type { CompiledTemplate, TemplateEngine } from '../render/index.js';
import { didYouMean, issuesToProblems, type Problem } from './issues.js';
import type { SourcePosition } from './types.js';
import { formatPath, type PathSegment } from './yaml.js';
import type { ConfigYaml } from './yaml-pieces.js';
import { asProblem, displayPath, listTemplates } from './loader-helpers.js';

export class LoaderBase {
  protected readonly problems: DigestError[] = [];
  protected readonly warnings: string[] = [];
  protected yaml!: ConfigYaml;
  protected secrets = new Set<string>();
  protected engine: TemplateEngine | undefined;
  protected readonly templates = new Map<string, CompiledTemplate | null>();
  /** Paths whose `${VAR}` could not be resolved: their value is reported once, not again as invalid. */
  protected readonly unresolved = new Set<string>();

  constructor(
    protected readonly file: string,
    protected readonly display: string,
    protected readonly dir: string,
    protected readonly cwd: string,
    protected readonly env: Record<string, string | undefined>,
    protected readonly only?: string,
  ) {}

  // --- problems ---------------------------------------------------------------------------------

  protected push(message: string, hint: string | undefined, at: { line: number; column: number; path?: string }): void {
    this.problems.push(
      new DigestError('E_CONFIG', this.scrub(message), {
        location: { file: this.display, line: at.line, column: at.column, ...(at.path ? { path: at.path } : {}) },
        ...(hint ? { hint: this.scrub(hint) } : {}),
      }),
    );
  }

  /** yaml's own alias guard (aliases inside anchors, resolved many times) as a config problem, not a crash. */
  protected toValues(): unknown {
    try {
      return this.yaml.values();
    } catch (err) {
      if (!(err instanceof ReferenceError)) throw err;
      const first = this.yaml.firstAlias();
      this.push(`cannot expand the aliases: ${err.message}`, 'each *alias copies the whole value of its &anchor; aliases of aliases multiply. Write the values out or use fewer aliases', first);
      this.fail();
    }
  }

  protected problem(path: readonly PathSegment[], message: string, hint?: string, atKey = false): void {
    if (!atKey && this.unresolved.has(formatPath(path))) return;
    const pos = this.yaml.positionOf(path, { key: atKey });
    this.push(message, hint, { ...pos, path: formatPath(path) });
  }

  protected addIssues(issues: readonly z.core.$ZodIssue[], schema: z.core.$ZodType, data: unknown, prefix: PathSegment[], extraKeys?: string[]): void {
    const problems = issuesToProblems(issues, {
      schema,
      data,
      prefix,
      extraKeys,
      isSecret: (path) => this.isSecret(path),
    });
    for (const p of problems) this.report(p);
  }

  protected report(p: Problem): void {
    const path = p.path;
    if (path.length === 1 && path[0] === 'version' && !p.atKey) {
      const missing = /^missing/.test(p.message);
      this.problem(path, missing ? 'missing required key "version"' : `unsupported config version: ${p.message.split(' is not allowed')[0]}`,
        missing ? 'add `version: 1` as the first line' : 'this pachca-digest reads `version: 1` only');
      return;
    }
    this.problem(path, p.message, p.hint, p.atKey);
  }

  protected isSecret(path: readonly PathSegment[]): boolean {
    if (path[0] === 'pachca' && path[1] === 'token') return true;
    return this.yaml.isSecretNode(path);
  }

  /** Secret values never reach an error message, whatever path they took. */
  protected scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) if (s.length >= 3) out = out.split(s).join('***');
    return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"]+:)[^\s@"]+@/gi, '$1***@');
  }

  protected fail(): never {
    const inConfig = this.problems.filter((p) => p.location?.file === this.display);
    const others = this.problems.filter((p) => p.location?.file !== this.display);
    inConfig.sort((a, b) => (a.location!.line ?? 0) - (b.location!.line ?? 0) || (a.location!.column ?? 0) - (b.location!.column ?? 0));
    const details = [...inConfig, ...others];
    const n = details.length;
    throw new DigestError('E_CONFIG', `${this.display}: ${n} problem${n === 1 ? '' : 's'}`, {
      location: { file: this.display },
      hint: 'fix the problems above, then check with `pachca-digest validate`',
      details,
    });
  }

  // --- templates --------------------------------------------------------------------------------

  protected setupEngine(templatesDir: string): void {
    if (!existsSync(templatesDir) || !statSync(templatesDir).isDirectory()) {
      // Reported once, at the first job that needs a template.
      this.missingTemplatesDir = { dir: templatesDir, reported: false };
      return;
    }
    this.engine = createTemplateEngine({ templatesDir });
  }

  protected missingTemplatesDir: { dir: string; reported: boolean } | undefined;

  protected template(rel: string, path: PathSegment[], lint = true): CompiledTemplate | null {
    if (!this.engine) {
      const m = this.missingTemplatesDir!;
      if (m.reported) return null;
      m.reported = true;
      this.problem(path, `templates directory ${displayPath(this.cwd, m.dir)} does not exist (needed for template ${JSON.stringify(rel)})`,
        'create it next to the config, or set `templates_dir:` to the directory that holds your .hbs files');
      return null;
    }
    const templatesDir = this.engine.templatesDir;
    const abs = resolve(templatesDir, rel);
    if (isAbsolute(rel) || !(abs + sep).startsWith(resolve(templatesDir) + sep) || abs === resolve(templatesDir)) {
      this.problem(path, `template ${JSON.stringify(rel)} is not a file inside templates_dir (${displayPath(this.cwd, templatesDir)})`,
        'give a path relative to templates_dir, e.g. `template: daily.hbs`');
      return null;
    }
    if (this.templates.has(abs)) return this.templates.get(abs)!;
    if (!existsSync(abs) || !statSync(abs).isFile()) {
      const available = listTemplates(templatesDir);
      const guess = didYouMean(rel, available);
      this.problem(path, `template file not found: ${displayPath(this.cwd, abs)}`,
        guess ? `did you mean "${guess}"?` : available.length ? `available in ${displayPath(this.cwd, templatesDir)}/: ${available.slice(0, 10).join(', ')}` : `create ${displayPath(this.cwd, abs)}`);
      this.templates.set(abs, null);
      return null;
    }
    let compiled: CompiledTemplate | null = null;
    try {
      compiled = this.engine.compileFile(relative(templatesDir, abs));
      for (const w of lint ? lintMessage(compiled.source) : []) {
        this.warnings.push(`${displayPath(this.cwd, abs)}:${w.line}: ${w.message} (${w.hint})`);
      }
    } catch (err) {
      this.problems.push(this.displayed(asProblem(err, 'E_TEMPLATE', { file: displayPath(this.cwd, abs) })));
    }
    this.templates.set(abs, compiled);
    return compiled;
  }

  /** A template error with its file shown relative to the working directory, optionally naming who hit it. */
  protected displayed(e: DigestError, who?: string): DigestError {
    const file = e.location?.file;
    if (!who && !(file && isAbsolute(file))) return e;
    const location = file && isAbsolute(file) ? { ...e.location, file: displayPath(this.cwd, file) } : e.location;
    return new DigestError(e.code, who ? `${e.message} (in ${who})` : e.message, { location, hint: e.hint, cause: e, details: e.details });
  }

  protected inline(source: string, path: PathSegment[]): CompiledTemplate | null {
    if (!this.engine) return null;
    const pos = this.yaml.positionOf(path);
    try {
      return this.engine.compileInline(source, { file: this.display, line: pos.line, column: pos.column, path: formatPath(path) }, { raw: true });
    } catch (err) {
      const e = asProblem(err, 'E_CONFIG', { file: this.display, line: pos.line, column: pos.column, path: formatPath(path) });
      this.problems.push(e);
      return null;
    }
  }

  protected position(path: PathSegment[]): SourcePosition {
    return { file: this.display, ...this.yaml.positionOf(path), path: formatPath(path) };
  }
}
