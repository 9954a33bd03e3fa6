/**
 * One planned message to Pachca: posted in parts (split long content) or, with `delivery: update`,
 * edited in place — the first part stays where it is and content that outgrew one message
 * continues in its thread. Each part is handed to `onPart` as it lands, to be recorded before the
 * next one goes out.
 */
import type { JobConfig } from '../config/index.js';
import type { PachcaClient } from '../pachca/index.js';
import type { CreateMessageInput, Message, MessageFile } from '../pachca/index.js';
import type { DeliveryRecord } from '../state/index.js';
import type { PlannedMessage } from './plan.js';

export interface Recheck {
  /** Messages created before this (epoch ms) belong to earlier slots. */
  since: number;
  /** Message ids already accounted for in this run, so two identical messages never match one post. */
  taken: Set<number>;
}

export interface SendSpec {
  /** This run's records of the message's parts (an earlier attempt delivered them). */
  recorded: readonly DeliveryRecord[];
  /** `delivery: update`: the previous slot's parts, edited instead of posted. */
  previous: readonly DeliveryRecord[];
  /** Re-attempts look for each missing part before posting it. */
  recheck: Recheck | null;
  signal: AbortSignal;
  onPart(msg: Message, index: number, found: boolean, files: MessageFile[] | undefined): Promise<void>;
}

export async function sendOne(client: PachcaClient, job: JobConfig, m: PlannedMessage, spec: SendSpec): Promise<void> {
  const parts = client.partsOf(m.input.content);
  const from = spec.recorded.length;
  if (from >= parts.length) return;
  const editing = spec.previous.length > 0;
  // Files travel with the buttons: on the first part when editing or splitting into the thread, else the last.
  const filesOn = (on: number) => (from > on ? undefined : upload(client, m, spec.signal));
  if (editing) {
    const files = await filesOn(0);
    const report = (msg: Message, i: number, found: boolean) => spec.onPart(msg, i, found, i === 0 ? files : undefined);
    if (await editParts(client, m, parts, files, spec, report)) return;
  }
  const on = job.splitToThread ? 0 : parts.length - 1;
  const files = await filesOn(on);
  await client.sendMessage(files ? { ...m.input, files } : m.input, {
    signal: spec.signal,
    splitToThread: job.splitToThread,
    delivered: spec.recorded.map((r) => ({ id: r.messageId })),
    ...(spec.recheck ? { recheck: spec.recheck } : {}),
    onPart: (msg, i, found) => spec.onPart(msg, i, found, i === on ? files : undefined),
  });
}

/**
 * Edits the previous slot's parts with the new content. A part the previous run did not have
 * continues in the first message's thread; parts it had beyond the new content are deleted (they
 * would show stale text). False when the first message is gone: the caller posts anew.
 */
async function editParts(
  client: PachcaClient,
  m: PlannedMessage,
  parts: string[],
  files: MessageFile[] | undefined,
  spec: SendSpec,
  report: (msg: Message, i: number, found: boolean) => Promise<void>,
): Promise<boolean> {
  const prev = spec.previous;
  const signal = spec.signal;
  const first = (spec.recorded[0] ?? prev[0]!).messageId;
  let thread: { id: number; chat_id: number } | undefined;
  for (let i = spec.recorded.length; i < parts.length; i++) {
    const old = prev[i];
    if (old) {
      // `files` replaces the previous run's files; a job without attachments leaves a message's files alone.
      const input = i === 0 ? { content: parts[0]!, buttons: m.input.buttons ?? [], ...(files ? { files } : {}) } : { content: parts[i]! };
      // Pachca paces edits per chat: the ledger knows the chat, so the client need not guess.
      const updated = await client.updateIfPresent(old.messageId, input, { signal, ...(old.chatId != null ? { chatId: old.chatId } : {}) });
      if (updated) {
        await report(updated, i, false);
        continue;
      }
      if (i === 0) return false;
    }
    thread ??= await client.createThread(first, { signal });
    const input: CreateMessageInput = { entity_type: 'thread', entity_id: thread.id, content: parts[i]! };
    if (m.input.display_name) input.display_name = m.input.display_name;
    if (m.input.display_avatar_url) input.display_avatar_url = m.input.display_avatar_url;
    const found = spec.recheck ? await client.findLanded(input, { ...spec.recheck, chatId: thread.chat_id, signal }) : null;
    await report(found ?? (await client.createMessage(input, { signal, dedupeChatId: thread.chat_id })), i, found !== null);
  }
  for (const old of prev.slice(parts.length)) {
    await client.deleteIfPresent(old.messageId, { signal, ...(old.chatId != null ? { chatId: old.chatId } : {}) });
  }
  return true;
}

/** Uploads a message's files; all of them, or the message is not posted. */
async function upload(client: PachcaClient, m: PlannedMessage, signal: AbortSignal): Promise<MessageFile[] | undefined> {
  if (!m.files) return undefined;
  // Loaded here: dry runs and jobs without files never load the HTTP stack.
  const { uploadFiles } = await import('../pachca/index.js');
  return uploadFiles(
    client,
    m.files.map((f) => ({ name: f.name, bytes: f.bytes, contentType: f.contentType, fileType: f.fileType, ...(f.width ? { width: f.width, height: f.height } : {}) })),
    { signal },
  );
}
