/**
 * The web view's wire format: what `/__web/api/*` answers and the page reads. Both sides compile
 * against these types (the server in Node, the page with the DOM library), so this file imports
 * nothing and uses nothing from either runtime.
 */

/** One configured job as the Jobs view shows it. */
export interface WebJobInfo {
  name: string;
  description?: string;
  /** The cron expression as configured. */
  schedule: string;
  /** A human description of the schedule ("every day at 09:00"). */
  scheduleText: string;
  timezone: string;
  enabled: boolean;
  /** Next run times, ISO-8601. */
  next: string[];
}

export interface WebJobRunResult {
  status: string;
  messageIds: number[];
  error?: string;
}

export interface WebButton {
  text: string;
  url?: string;
  data?: string;
}

export interface WebFile {
  name: string;
  size: number;
  file_type: string;
  url: string;
}

/** A message as the page renders it. */
export interface WebMessage {
  id: number;
  chat_id: number;
  content: string;
  /** UTF-8 bytes of `content`: the API's size limit counts bytes. */
  bytes: number;
  user_id: number;
  created_at: string;
  changed_at: string | null;
  display_name: string | null;
  display_avatar_url: string | null;
  buttons: WebButton[][] | null;
  files: WebFile[];
  parent_message_id: number | null;
  link_preview: boolean | null;
  /** Cards an Unfurl bot added (`POST /messages/{id}/link_previews`), shown under the text as in Pachca. */
  previews: WebLinkPreview[];
  /** Replies (parent_message_id) to this message in the same chat, in order. */
  replies: WebMessage[];
  thread: { id: number; chat_id: number; messages: WebMessage[] } | null;
}

export interface WebLinkPreview {
  url: string;
  title: string;
  description: string;
  /** The picture: `image_url`, or an uploaded `image` served by the sandbox. */
  image_url: string | null;
}

export interface WebChatSummary {
  id: number;
  name: string;
  kind: string;
  channel: boolean;
  /** Live (not deleted) messages. */
  count: number;
  last_message_at: string | null;
}

export interface WebUser {
  id: number;
  nickname: string;
  name: string;
  bot: boolean;
  image_url: string | null;
}

/** `GET /__web/api/state[?chat_id=]`. */
export interface WebState {
  baseUrl: string;
  maxContentBytes: number;
  jobs: boolean;
  chats: WebChatSummary[];
  users: WebUser[];
  chat: { id: number; name: string; messages: WebMessage[] } | null;
}

export interface WebRequestEntry {
  time: string;
  method: string;
  path: string;
  /** null when no answer was sent; `outcome` says why. */
  status: number | null;
  outcome: string;
  fault: string | null;
}

/** `GET /__web/api/stats`. */
export interface WebStatsResponse {
  stats: {
    requests: number;
    byEndpoint: Record<string, Record<string, number>>;
    rateLimited: number;
    faultsInjected: number;
    faultsByKind: Partial<Record<string, number>>;
  };
  /** Newest first. */
  requests: WebRequestEntry[];
  faults: Array<{ id: number; kind: string; remaining: number | null }>;
}

/** `POST /__web/api/jobs/run` answers `{ data }` (or `{ errors }` when the request was refused). */
export interface WebJobRunResponse extends WebJobRunResult {
  /** The posted messages and the chat each is shown in (a thread message opens its parent's chat). */
  messages: Array<{ id: number; chat_id: number | null }>;
}
