/** The loader's targets layer: destinations of a job and their buttons. */
import { describeValue } from './issues.js';
import { CONFIG_DEFAULTS as D } from './defaults.js';
import type { CompiledTemplate } from '../render/index.js';
import type { RawDefaults, RawJob, RawTarget } from './schema.js';
import type { ActionButton, TargetButton, TargetSpec, UrlButton } from './types.js';
import type { RawActionButton } from './schema-events.js';
import { MAX_BUTTON_DATA, worstCaseButtonDataLength } from '../interactions/payload.js';
import type { PathSegment } from './yaml.js';
import { LoaderBase } from './loader-base.js';
import { isHttpUrl } from './loader-helpers.js';

export class TargetSections extends LoaderBase {
  // --- targets ----------------------------------------------------------------------------------

  protected targetIdCount(t: Record<string, unknown>, path: PathSegment[]): void {
    const ids = ['chat_id', 'user_id', 'thread_id'].filter((k) => t[k] !== undefined);
    if (ids.length === 0) {
      this.problem(path, 'target has no chat_id, user_id or thread_id', 'add exactly one: `chat_id: 123` (a chat), `user_id:` (a direct message) or `thread_id:`');
    } else if (ids.length > 1) {
      this.problem([...path, ids[1]!], `target has both ${ids[0]} and ${ids[1]}`, 'keep exactly one of chat_id, user_id, thread_id (use `targets:` for several destinations)', true);
    }
  }

  protected targets(job: RawJob, p: PathSegment[], defaults: RawDefaults): TargetSpec[] | null {
    const list: Array<{ t: RawTarget; path: PathSegment[] }> = job.target
      ? [{ t: job.target, path: [...p, 'target'] }]
      : (job.targets ?? []).map((t, k) => ({ t, path: [...p, 'targets', k] }));
    if (list.length === 0) return null;
    const out: TargetSpec[] = [];
    let ok = true;
    for (const [i, { t, path }] of list.entries()) {
      const spec = this.target(t, path, job, defaults, i);
      if (spec) out.push(spec);
      else ok = false;
    }
    return ok ? out : null;
  }

  protected target(t: RawTarget, path: PathSegment[], job: RawJob, defaults: RawDefaults, targetIndex: number): TargetSpec | null {
    const kinds = [['chat', 'chat_id'], ['user', 'user_id'], ['thread', 'thread_id']] as const;
    const found = kinds.filter(([, k]) => t[k] !== undefined);
    if (found.length !== 1) return null; // reported by targetIdCount
    const [kind, key] = found[0]!;
    const id = this.targetId(t[key]!, [...path, key], job);
    const buttons = this.buttons(t.buttons, [...path, 'buttons'], job, targetIndex);
    if (id === null || buttons === null) return null;
    const spec: TargetSpec = { kind, id, buttons, position: this.position(path) };
    const d = defaults.target ?? {};
    const displayName = t.display_name ?? d.display_name;
    const avatar = t.display_avatar_url ?? d.display_avatar_url;
    const preview = t.link_preview ?? d.link_preview;
    if (displayName !== undefined) spec.displayName = displayName;
    if (avatar !== undefined) spec.displayAvatarUrl = avatar;
    if (preview !== undefined) spec.linkPreview = preview;
    return spec;
  }

  protected targetId(value: number | string, path: PathSegment[], job: RawJob): number | CompiledTemplate | null {
    if (typeof value === 'number') return value;
    const text = value.trim();
    if (/^\d+$/.test(text)) {
      const n = Number(text);
      if (n > 0 && Number.isSafeInteger(n)) return n;
    } else if (text.includes('{{')) {
      if (/\bitem\b/.test(text) && !job.for_each) {
        this.problem(path, `target id ${JSON.stringify(value)} uses "item" but the job has no for_each`, 'add `for_each: metrics.<list>` to send one message per item, or use a fixed id');
        return null;
      }
      return this.inline(text, path);
    }
    this.problem(path, `bad target id ${describeValue(value, this.isSecret(path))}`, 'use a positive integer id (e.g. `chat_id: 12345`) or a template such as "{{item.chat_id}}" (with for_each)');
    return null;
  }

  protected urlButton(b: { text: string; url: string }, bp: PathSegment[], job: RawJob): UrlButton | null {
    if (!/\{\{/.test(b.url) && !isHttpUrl(b.url)) {
      this.problem([...bp, 'url'], `button url ${describeValue(b.url)} is not an http(s) URL`, 'write a full URL such as https://example.com/report, or a template like "{{metrics.url}}"');
      return null;
    }
    if (!job.for_each && (/\{\{[^}]*\bitem\b/.test(b.text) || /\{\{[^}]*\bitem\b/.test(b.url))) {
      this.problem(bp, 'button uses "item" but the job has no for_each', 'add `for_each:` or use metrics instead of item');
      return null;
    }
    const text = this.inline(b.text, [...bp, 'text']);
    const url = this.inline(b.url, [...bp, 'url']);
    return text && url ? { text, url } : null;
  }

  protected actionButton(b: RawActionButton, bp: PathSegment[], job: RawJob, targetIndex: number): ActionButton | null {
    if (b.action === 'details' && !b.template) {
      this.problem(bp, 'a `details` button needs `template:`', 'name the template of the direct message, e.g. `template: details.hbs`');
      return null;
    }
    if (b.action !== 'details' && b.template) {
      this.problem([...bp, 'template'], `\`template\` belongs to \`details\` buttons, not \`${b.action}\``, 'remove `template:` or use `action: details`', true);
      return null;
    }
    if (!job.for_each && /\{\{[^}]*\bitem\b/.test(b.text)) {
      this.problem(bp, 'button uses "item" but the job has no for_each', 'add `for_each:` or use metrics instead of item');
      return null;
    }
    const longest = worstCaseButtonDataLength(job.name, targetIndex);
    if (longest > MAX_BUTTON_DATA) {
      this.problem(bp, `the button data of job "${job.name}" can reach ${longest} characters; Pachca allows ${MAX_BUTTON_DATA}`, 'shorten the job name');
      return null;
    }
    const text = this.inline(b.text, [...bp, 'text']);
    const template = b.template ? this.template(b.template, [...bp, 'template']) : undefined;
    if (!text || template === null) return null;
    return { text, action: b.action, ...(template ? { template } : {}) };
  }

  protected buttons(raw: RawTarget['buttons'], path: PathSegment[], job: RawJob, targetIndex: number): TargetButton[][] | null {
    if (!raw || raw.length === 0) return [];
    const allRows = raw.every((r) => Array.isArray(r));
    const noRows = raw.every((r) => !Array.isArray(r));
    if (!allRows && !noRows) {
      this.problem(path, 'buttons mix single buttons and rows', 'write either a list of buttons (one row) or a list of rows (each a list of buttons)');
      return null;
    }
    type RawButton = { text: string; url: string } | RawActionButton;
    const rows = allRows
      ? (raw as RawButton[][]).map((row, r) => ({ row, path: [...path, r] }))
      : [{ row: raw as RawButton[], path }];
    const { buttonsPerRow, buttonsTotal, buttonTextMax } = D.limits;
    let ok = true;
    let total = 0;
    const out: TargetButton[][] = [];
    for (const { row, path: rowPath } of rows) {
      total += row.length;
      if (row.length > buttonsPerRow) {
        this.problem(rowPath, `a row of buttons has ${row.length} buttons; Pachca allows at most ${buttonsPerRow} per row`, 'split the row: write buttons as a list of rows, e.g. `buttons: [[{...}, {...}], [{...}]]`');
        ok = false;
        continue;
      }
      const compiled: TargetButton[] = [];
      row.forEach((b, k) => {
        const bp = [...rowPath, k];
        // Static text is checked here; a templated one when it is rendered (plan).
        const chars = [...b.text].length;
        if (!/\{\{/.test(b.text) && chars > buttonTextMax) {
          this.problem([...bp, 'text'], `button text is ${chars} characters; Pachca allows at most ${buttonTextMax}`, 'shorten the button text; put the details into the message');
          ok = false;
          return;
        }
        const built = 'action' in b ? this.actionButton(b, bp, job, targetIndex) : this.urlButton(b, bp, job);
        if (built) compiled.push(built);
        else ok = false;
      });
      out.push(compiled);
    }
    if (total > buttonsTotal) {
      this.problem(path, `${total} buttons; Pachca allows at most ${buttonsTotal} per message`, 'remove buttons or link to a page that lists them');
      ok = false;
    }
    return ok ? out : null;
  }
}
