/**
 * Every default of the sandbox in one place. Seed data is what `pachca-digest sandbox` shows on a
 * fresh start; tests usually pass their own `chats`/`users` so ids in assertions are explicit.
 */
import type { SeedChat, SeedUser } from './records.js';

export const API_BASE_PATH = '/api/shared/v1';
export const INSPECT_BASE_PATH = '/__sandbox';

export const SANDBOX_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  /** The token a strict sandbox accepts when none are configured. */
  strictToken: 'sandbox-strict-token',
  /** What `sandbox.token` reports in preview mode (any token works there). */
  previewToken: 'sandbox',
  /** Author of every message posted through any token unless `tokens` maps it elsewhere. */
  botUserId: 1000,
  /** Requests kept in the inspection log (oldest dropped first). */
  requestLogSize: 2000,
  /** The real API documents "about 40 KB" of Markdown per message, counted in UTF-8 bytes. */
  maxContentBytes: 40_000,
  /** Request bodies above this are refused before parsing. */
  maxBodyBytes: 2 * 1024 * 1024,
  maxButtons: 100,
  maxButtonsPerRow: 8,
  maxFieldLength: 255,
  /** Page size bounds of every list method (the spec's minimum/maximum/default). */
  pageLimit: { min: 1, max: 50, default: 50 },
  /** Ids of chats created on the fly (direct and thread chats) start above the seeded ones. */
  firstDynamicChatId: 10_000,
  firstMessageId: 1,
  firstThreadId: 500,
} as const;

export const DEFAULT_USERS: SeedUser[] = [
  { id: 1, first_name: 'Иван', last_name: 'Петров', nickname: 'ivan.petrov' },
  { id: 2, first_name: 'Мария', last_name: 'Смирнова', nickname: 'maria.smirnova' },
  { id: 3, first_name: 'Алексей', last_name: 'Кузнецов', nickname: 'alexey.kuznetsov' },
  { id: 4, first_name: 'Ольга', last_name: 'Соколова', nickname: 'olga.sokolova' },
];

/** Chat ids differ from user ids on purpose: a client mixing up entity types then gets a 404. */
export const DEFAULT_CHATS: SeedChat[] = [
  { id: 101, name: 'Общий' },
  { id: 102, name: 'Разработка' },
  { id: 103, name: 'Продажи' },
  { id: 104, name: 'Новости компании', channel: true },
];

export const DEFAULT_BOT_USER = (id: number): SeedUser => ({
  id,
  first_name: 'Дайджест',
  last_name: 'Бот',
  nickname: 'digest_bot',
  bot: true,
});
