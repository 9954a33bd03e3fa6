/** What the real API answers for a stored message or chat (sandbox-only fields dropped). */
import type { StoredChat, StoredMessage } from './records.js';

export function apiMessage(m: StoredMessage, origin: string): Record<string, unknown> {
  return {
    id: m.id,
    entity_type: m.entity_type,
    entity_id: m.entity_id,
    chat_id: m.chat_id,
    root_chat_id: m.root_chat_id,
    content: m.content,
    user_id: m.user_id,
    created_at: m.created_at,
    url: messageUrl(origin, m.chat_id, m.id),
    files: m.files,
    voice_content: null,
    buttons: m.buttons,
    thread: m.thread,
    forwarding: null,
    parent_message_id: m.parent_message_id,
    display_avatar_url: m.display_avatar_url,
    display_name: m.display_name,
    changed_at: m.changed_at,
    deleted_at: m.deleted_at,
  };
}

export function messageUrl(origin: string, chatId: number, messageId: number): string {
  return `${origin}/chats/${chatId}#message-${messageId}`;
}

export function apiChat(c: StoredChat): Record<string, unknown> {
  const { kind: _kind, thread_id: _threadId, ...rest } = c;
  // The spec's Chat.last_message_at is a non-null date-time: a chat nothing was posted in yet
  // answers its creation time (the store keeps null, so "active since" filters still skip it).
  return { ...rest, last_message_at: c.last_message_at ?? c.created_at, member_ids: [...c.member_ids] };
}
