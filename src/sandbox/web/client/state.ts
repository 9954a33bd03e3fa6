/** The page's state: what it has loaded and which chat and view it shows. One object, one owner (the page). */
import type { WebChatSummary, WebUser } from '../types.js';
import type { MentionLookup } from './markup.js';

export type View = 'messages' | 'jobs';

export interface PageState {
  chats: WebChatSummary[];
  users: Map<number, WebUser>;
  byNick: Map<string, WebUser>;
  chatId: number | null;
  /** Follow the chat with the newest message until the viewer picks one. */
  follow: boolean;
  /** Message counts per chat at the last load; null before the first (nothing is "unread" yet). */
  counts: Map<number, number> | null;
  unread: Set<number>;
  /** Ids already shown in the current chat: a message not among them is highlighted as fresh. */
  known: Set<number> | null;
  /** A message to scroll to once its chat is painted. */
  focus: number | null;
  /** The message a link pointed at: marked until another chat is opened, across repaints. */
  linked: number | null;
  view: View;
  jobsEnabled: boolean;
  maxBytes: number;
  baseUrl: string;
}

export const S: PageState = {
  chats: [],
  users: new Map(),
  byNick: new Map(),
  chatId: null,
  follow: true,
  counts: null,
  unread: new Set(),
  known: null,
  focus: null,
  linked: null,
  view: 'messages',
  jobsEnabled: false,
  maxBytes: 40000,
  baseUrl: '',
};

export const mentions: MentionLookup = {
  byId: (id) => S.users.get(id),
  byNick: (nick) => S.byNick.get(nick),
};
