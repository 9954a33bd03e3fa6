/** A message's files, as chips under its text. */
import type { WebFile } from '../types.js';
import { el } from './dom.js';
import type { MessagePart } from './message.js';

function fileChip(f: WebFile): HTMLElement {
  const chip = el('span', 'file', f.name + ' · ' + f.size + ' Б');
  chip.title = f.file_type;
  return chip;
}

export const attachmentsPart: MessagePart = (m) => {
  if (!m.files.length) return null;
  const box = el('div', 'files');
  for (const f of m.files) box.appendChild(fileChip(f));
  return box;
};
