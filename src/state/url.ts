import { isAbsolute, resolve } from 'node:path';
import { DigestError } from '../errors.js';

export type StateUrl =
  | { kind: 'sqlite'; /** Absolute file path, or `:memory:`. */ path: string }
  | {
      kind: 'postgres';
      /** The URL handed to `pg`, without pachca-digest's own parameters. */
      connectionString: string;
      /** Optional `?schema=NAME`: tables live in this schema (created if missing). */
      schema: string | null;
      host: string;
      port: number;
      database: string;
    };

const URL_HINT =
  'use `sqlite:PATH` (relative to the config directory, e.g. sqlite:.pachca-digest/state.db) ' +
  'or `postgres://USER:PASSWORD@HOST:5432/DB` (optionally `?schema=NAME`)';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Parse a state URL. SQLite paths are resolved against `baseDir` (the config file's directory). */
export function parseStateUrl(url: string, baseDir: string): StateUrl {
  const text = url.trim();
  if (text.startsWith('sqlite:')) {
    let path = text.slice('sqlite:'.length);
    // Accept the URL-ish spellings people copy from other tools: sqlite:///abs/file.db, sqlite://rel/file.db.
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') {
      throw new DigestError('E_CONFIG', `state URL "${text}" has no file path`, { hint: URL_HINT });
    }
    if (path === ':memory:') return { kind: 'sqlite', path };
    return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(baseDir, path) };
  }
  if (/^postgres(ql)?:\/\//i.test(text)) {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch (cause) {
      throw new DigestError('E_CONFIG', `state URL "${redactStateUrl(text)}" is not a valid URL`, { hint: URL_HINT, cause });
    }
    const schema = parsed.searchParams.get('schema');
    if (schema !== null && !IDENTIFIER.test(schema)) {
      throw new DigestError('E_CONFIG', `state URL schema "${schema}" is not a plain identifier`, {
        hint: 'use letters, digits and underscores, starting with a letter, e.g. ?schema=pachca_digest',
      });
    }
    parsed.searchParams.delete('schema');
    return {
      kind: 'postgres',
      connectionString: parsed.toString(),
      schema,
      host: parsed.hostname || 'localhost',
      port: parsed.port ? Number(parsed.port) : 5432,
      database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username) || 'postgres',
    };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
  throw new DigestError(
    'E_CONFIG',
    scheme ? `unsupported state URL scheme "${scheme}:"` : `state URL "${redactStateUrl(text)}" has no scheme`,
    { hint: URL_HINT },
  );
}

/** The URL with its password replaced by `***`, safe for logs and error messages. */
export function redactStateUrl(url: string): string {
  const start = url.indexOf('://');
  if (start < 0) return url;
  const rest = url.slice(start + 3);
  // The last "@" ends the user info: an unencoded "@" or "/" inside a password must not leak its tail.
  const at = rest.lastIndexOf('@');
  if (at < 0) return url;
  const userInfo = rest.slice(0, at);
  const colon = userInfo.indexOf(':');
  if (colon < 0) return url;
  return `${url.slice(0, start + 3)}${userInfo.slice(0, colon)}:***${rest.slice(at)}`;
}
