/**
 * Who may call the sandbox. Strict mode (the default, what the tests use) is the real API: only
 * the configured tokens are accepted, anything else is 401 OAuthError. Preview mode (what
 * `pachca-digest sandbox` and token-less runs start) accepts any non-empty token, so a newcomer
 * needs no setup, and says so when it starts.
 */
import type { IncomingMessage } from 'node:http';
import { SANDBOX_DEFAULTS } from './defaults.js';
import { oauthError } from './errors.js';

export type SandboxMode = 'strict' | 'preview';

/** The one line a preview sandbox prints when it starts. */
export const PREVIEW_NOTICE =
  'Pachca sandbox in preview mode: it accepts any token and creates any chat id on first post, which the real API answers with 401/404';

export class TokenAuth {
  readonly #tokens: Map<string, number> | null;

  constructor(
    readonly mode: SandboxMode,
    tokens: string[] | Record<string, number> | undefined,
    readonly botUserId: number,
  ) {
    if (mode === 'preview' && !tokens) this.#tokens = null;
    else if (Array.isArray(tokens)) this.#tokens = new Map(tokens.map((t) => [t, botUserId]));
    else if (tokens) this.#tokens = new Map(Object.entries(tokens));
    else this.#tokens = new Map([[SANDBOX_DEFAULTS.strictToken, botUserId]]);
    if (this.#tokens?.size === 0) throw new Error('sandbox: strict mode needs at least one token');
  }

  /** A token this sandbox accepts (the first configured one; any in preview mode). */
  get token(): string {
    return this.#tokens ? this.#tokens.keys().next().value! : SANDBOX_DEFAULTS.previewToken;
  }

  /** Accepts one more token from now on (strict mode: a test's fresh token); `userId` is its author. */
  accept(token: string, userId = this.botUserId): void {
    if (token.trim() === '') throw new Error('sandbox: a token cannot be empty');
    this.#tokens?.set(token, userId);
  }

  /** Authors behind the configured tokens (created as bot users when unknown). */
  userIds(): number[] {
    return [...new Set(this.#tokens?.values() ?? [])];
  }

  authenticate(req: IncomingMessage): { token: string; userId: number } {
    const header = req.headers.authorization;
    if (!header) throw oauthError('Access token is missing');
    const m = /^Bearer\s+(\S.*)$/i.exec(header.trim());
    if (!m) throw oauthError('Access token is missing');
    const token = m[1]!.trim();
    if (!this.#tokens) return { token, userId: this.botUserId };
    const userId = this.#tokens.get(token);
    if (userId === undefined) throw oauthError('Access token is invalid');
    return { token, userId };
  }
}
