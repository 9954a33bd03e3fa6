/**
 * The sandbox's records: what tests seed, what the store keeps (the API's fields plus a few
 * sandbox-only ones), and the changes it announces. Data shapes only; SandboxStore (store.ts)
 * holds them.
 */
import type { EntityType, MessageButton } from '../pachca/index.js';

export interface SeedUser {
  id: number;
  first_name: string;
  last_name: string;
  nickname: string;
  email?: string;
  bot?: boolean;
}

export interface SeedChat {
  id: number;
  name: string;
  channel?: boolean;
  /** Defaults to every seeded user plus the bot. */
  member_ids?: number[];
  /** Defaults to false (visible with `availability=public` only when true). */
  public?: boolean;
}

export type ChatKind = 'group' | 'direct' | 'thread';

export interface StoredUser {
  id: number;
  first_name: string;
  last_name: string;
  nickname: string;
  email: string | null;
  phone_number: string | null;
  department: string | null;
  title: string | null;
  role: 'admin' | 'user' | 'multi_guest' | 'guest';
  suspended: boolean;
  invite_status: 'confirmed' | 'sent';
  inviter_id: number | null;
  list_tags: string[];
  custom_properties: unknown[];
  user_status: null;
  bot: boolean;
  sso: boolean;
  created_at: string;
  last_activity_at: string | null;
  time_zone: string;
  image_url: string | null;
}

export interface StoredChat {
  id: number;
  name: string;
  created_at: string;
  owner_id: number;
  member_ids: number[];
  group_tag_ids: number[];
  channel: boolean;
  archived: boolean;
  personal: boolean;
  public: boolean;
  last_message_at: string | null;
  meet_room_url: string;
  /** Sandbox-only: thread chats are reachable by id but not listed in GET /chats. */
  kind: ChatKind;
  /** Sandbox-only: the thread this chat belongs to (kind `thread`). */
  thread_id: number | null;
}

export interface StoredFile {
  id: number;
  key: string;
  name: string;
  file_type: string;
  size: number;
  width?: number;
  height?: number;
  url: string;
}

export interface StoredMessage {
  id: number;
  entity_type: EntityType;
  entity_id: number;
  chat_id: number;
  root_chat_id: number;
  content: string;
  user_id: number;
  created_at: string;
  files: StoredFile[];
  buttons: MessageButton[][] | null;
  thread: { id: number; chat_id: number } | null;
  parent_message_id: number | null;
  display_name: string | null;
  display_avatar_url: string | null;
  changed_at: string | null;
  deleted_at: string | null;
  /** Sandbox-only: what the request asked for, so tests can check it was passed through. */
  link_preview: boolean | null;
  skip_invite_mentions: boolean | null;
}

export interface StoredThread {
  id: number;
  chat_id: number;
  message_id: number;
  message_chat_id: number;
  updated_at: string;
}

export interface NewMessage {
  entity_type: EntityType;
  entity_id: number;
  chat_id: number;
  content: string;
  user_id: number;
  buttons?: MessageButton[][] | null;
  files?: Array<Omit<StoredFile, 'id' | 'url'>>;
  parent_message_id?: number | null;
  display_name?: string | null;
  display_avatar_url?: string | null;
  link_preview?: boolean | null;
  skip_invite_mentions?: boolean | null;
}

export interface MessagePatch {
  content?: string;
  buttons?: MessageButton[][] | null;
  files?: Array<Omit<StoredFile, 'id' | 'url'>>;
  display_name?: string | null;
  display_avatar_url?: string | null;
}

export interface SandboxStoreEvents {
  'message:created': { message: StoredMessage };
  'message:updated': { message: StoredMessage };
  'message:deleted': { message: StoredMessage };
  'chat:created': { chat: StoredChat };
  'user:created': { user: StoredUser };
  'thread:created': { thread: StoredThread };
  reset: Record<string, never>;
}
