/**
 * A message of any length, part by part: each part reported as it lands, parts delivered earlier
 * skipped, and (on a re-attempt) each missing part looked for before it is posted, so a retry or a
 * takeover sends only what is missing, in order.
 */
import type { PachcaClient, MessageCallOptions } from './client.js';
import type { LandedQuery } from './landed.js';
import type { CreateMessageInput, EntityType, Message } from './types.js';

export interface SendMessageOptions extends MessageCallOptions {
  /** Post parts after the first as replies in the first message's thread. */
  splitToThread?: boolean;
  /** Parts already delivered, in order from the first (e.g. from the ledger): not sent again. */
  delivered?: ReadonlyArray<Pick<Message, 'id'>>;
  /** Look for each missing part before posting it: an earlier attempt may have posted it unrecorded. */
  recheck?: Pick<LandedQuery, 'since' | 'taken'>;
  /** Called with each part as it lands (`found`: posted by an earlier attempt), before the next is sent. */
  onPart?: (part: Message, index: number, found: boolean) => void | Promise<void>;
}

export async function sendParts(client: PachcaClient, input: CreateMessageInput, opts: SendMessageOptions): Promise<Message[]> {
  const parts = client.partsOf(input.content);
  const done = opts.delivered?.length ?? 0;
  const sent: Message[] = [];
  // Buttons and files go on the part people see with the buttons (the first with splitToThread), never once per part.
  const buttonsOn = opts.splitToThread ? 0 : parts.length - 1;
  const { buttons, files, ...rest } = input;
  let target: { entity_type: EntityType | undefined; entity_id: number; chatId: number | undefined } = {
    entity_type: input.entity_type,
    entity_id: input.entity_id,
    chatId: opts.dedupeChatId,
  };
  const intoThread = async (first: number) => {
    // Creates the thread, or returns the one an earlier attempt created.
    const thread = await client.createThread(first, { signal: opts.signal });
    target = { entity_type: 'thread', entity_id: thread.id, chatId: thread.chat_id };
  };
  try {
    if (opts.splitToThread && parts.length > 1 && done > 0 && done < parts.length) await intoThread(opts.delivered![0]!.id);
    for (let i = done; i < parts.length; i++) {
      const msg: CreateMessageInput = { ...rest, entity_id: target.entity_id, content: parts[i]! };
      if (target.entity_type !== undefined) msg.entity_type = target.entity_type;
      if (i === buttonsOn && buttons) msg.buttons = buttons;
      if (i === buttonsOn && files) msg.files = files;
      if (i > 0 && opts.splitToThread) delete msg.parent_message_id;
      const found = opts.recheck
        ? await client.findLanded(msg, { ...opts.recheck, signal: opts.signal, ...(target.chatId !== undefined ? { chatId: target.chatId } : {}) })
        : null;
      const part = found ?? (await client.createMessage(msg, { signal: opts.signal, dedupeChatId: target.chatId }));
      sent.push(part);
      await opts.onPart?.(part, i, found !== null);
      if (i === 0 && opts.splitToThread && parts.length > 1) await intoThread(part.id);
    }
    return sent;
  } catch (e) {
    if (e instanceof Error && sent.length) Object.assign(e, { delivered: sent });
    throw e;
  }
}
