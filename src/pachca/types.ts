/** Shapes of the Pachca API subset this project uses (see ../shared/reference/pachca-openapi.en.yaml). */
export type EntityType = 'discussion' | 'user' | 'thread';

export interface MessageButton {
  text: string;
  url?: string;
  data?: string;
}

export interface CreateMessageInput {
  entity_type: EntityType;
  entity_id: number;
  content: string;
  buttons?: MessageButton[][];
  parent_message_id?: number;
  display_name?: string;
  display_avatar_url?: string;
  skip_invite_mentions?: boolean;
  /** Top-level `link_preview` of the request body. */
  link_preview?: boolean;
  /** Uploaded files (see uploadFiles): keys from the upload flow. */
  files?: MessageFile[];
}

/** A file of a message: `key` from POST /uploads with `${filename}` replaced by `name`. */
export interface MessageFile {
  key: string;
  name: string;
  file_type: 'file' | 'image' | 'audio' | 'voice';
  size: number;
  width?: number;
  height?: number;
}

export interface UpdateMessageInput {
  content?: string;
  buttons?: MessageButton[][];
  /** Replaces the whole list (`[]` removes every file). */
  files?: MessageFile[];
  display_name?: string;
  display_avatar_url?: string;
}

export interface Message {
  id: number;
  entity_type: EntityType;
  entity_id: number;
  chat_id: number;
  root_chat_id?: number;
  content: string;
  user_id: number;
  created_at: string;
  url: string;
  files?: unknown[];
  buttons?: MessageButton[][];
  thread?: { id: number; chat_id: number } | null;
  forwarding?: unknown;
  parent_message_id?: number | null;
  display_avatar_url?: string | null;
  display_name?: string | null;
  changed_at?: string | null;
  deleted_at?: string | null;
}

export interface Chat {
  id: number;
  name: string;
  created_at: string;
  owner_id: number;
  member_ids: number[];
  group_tag_ids?: number[];
  channel: boolean;
  personal?: boolean;
  public: boolean;
  last_message_at: string | null;
  meet_room_url?: string;
}

export interface User {
  id: number;
  first_name: string;
  last_name: string;
  nickname: string;
  email?: string;
  bot: boolean;
  [key: string]: unknown;
}

export interface Thread {
  id: number;
  chat_id: number;
  message_id?: number;
  message_chat_id?: number;
  updated_at?: string;
}

export interface Paginate {
  next_page?: string | null;
  prev_page?: string | null;
  has_next?: boolean;
  has_prev?: boolean;
}

export interface ListMessagesQuery {
  chat_id: number;
  limit?: number;
  order?: 'asc' | 'desc';
  sort?: 'id';
}

export interface ListChatsQuery {
  limit?: number;
  sort?: 'id' | 'last_message_at';
  order?: 'asc' | 'desc';
  availability?: 'is_member' | 'public';
  last_message_at_after?: string;
  last_message_at_before?: string;
}

/** Per-call options accepted by every client method. */
export interface CallOptions {
  signal?: AbortSignal;
}
