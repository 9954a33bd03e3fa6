/** Plain-text output helpers shared by commands (stdout is for people and golden tests). */
import type { PlannedMessage } from '../pipeline/index.js';

export function formatPlannedMessage(m: PlannedMessage, index: number, total: number): string {
  const head = `── message ${index + 1}/${total} → ${m.target.label} (entity_type ${m.input.entity_type}) ──`;
  const lines = [head, m.input.content];
  if (m.input.buttons?.length) {
    lines.push('', 'buttons:');
    for (const row of m.input.buttons) lines.push(`  ${row.map((b) => `[${b.text}](${b.url ?? b.data ?? ''})`).join('  ')}`);
  }
  const extras: string[] = [];
  if (m.input.display_name) extras.push(`display_name: ${m.input.display_name}`);
  if (m.input.display_avatar_url) extras.push(`display_avatar_url: ${m.input.display_avatar_url}`);
  if (m.input.link_preview !== undefined) extras.push(`link_preview: ${m.input.link_preview}`);
  if (extras.length) lines.push('', ...extras);
  if (m.files?.length) {
    lines.push('', 'files:');
    for (const f of m.files) lines.push(`  📎 ${f.name} (${f.width ? `image ${f.width}×${f.height}` : `${f.bytes.length} bytes`})`);
  }
  return lines.join('\n');
}

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - [...c].length))).join('  '))
    .join('\n');
}
