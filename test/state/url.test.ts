import { describe, expect, it } from 'vitest';
import { openStateStore, parseStateUrl, redactStateUrl } from '../../src/state/index.js';

describe('parseStateUrl', () => {
  it('resolves sqlite paths against the base directory', () => {
    expect(parseStateUrl('sqlite:.pachca-digest/state.db', '/srv/app')).toEqual({ kind: 'sqlite', path: '/srv/app/.pachca-digest/state.db' });
    expect(parseStateUrl('sqlite:../state.db', '/srv/app')).toEqual({ kind: 'sqlite', path: '/srv/state.db' });
    expect(parseStateUrl('sqlite:/var/lib/digest/state.db', '/srv/app')).toEqual({ kind: 'sqlite', path: '/var/lib/digest/state.db' });
    expect(parseStateUrl('sqlite:///var/lib/digest/state.db', '/srv/app')).toEqual({ kind: 'sqlite', path: '/var/lib/digest/state.db' });
    expect(parseStateUrl('sqlite::memory:', '/srv/app')).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('parses postgres URLs, both schemes, with an optional schema', () => {
    expect(parseStateUrl('postgres://digest:pw@db.internal:6543/ledger?schema=digest&sslmode=require', '/x')).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://digest:pw@db.internal:6543/ledger?sslmode=require',
      schema: 'digest',
      host: 'db.internal',
      port: 6543,
      database: 'ledger',
    });
    expect(parseStateUrl('postgresql://db/ledger', '/x')).toMatchObject({ kind: 'postgres', host: 'db', port: 5432, database: 'ledger', schema: null });
  });

  it('rejects unknown schemes and bad input with E_CONFIG and a hint showing both forms', () => {
    for (const url of ['mysql://db/x', 'state.db', 'sqlite:', 'postgres://db/x?schema=bad-name;drop']) {
      let err: unknown;
      try {
        parseStateUrl(url, '/x');
      } catch (e) {
        err = e;
      }
      expect(err, url).toMatchObject({ code: 'E_CONFIG' });
    }
    try {
      parseStateUrl('mysql://u:secret@db/x', '/x');
    } catch (e) {
      const err = e as { message: string; hint: string };
      expect(err.message).toContain('mysql:');
      expect(err.message).not.toContain('secret');
      expect(err.hint).toContain('sqlite:');
      expect(err.hint).toContain('postgres://');
    }
  });
});

describe('redactStateUrl', () => {
  it('hides the password, even one with unencoded @ or /', () => {
    expect(redactStateUrl('postgres://digest:s3cret@db:5432/ledger')).toBe('postgres://digest:***@db:5432/ledger');
    expect(redactStateUrl('postgres://digest:p@ss/w0rd@db/ledger')).toBe('postgres://digest:***@db/ledger');
    expect(redactStateUrl('postgres://digest@db/ledger')).toBe('postgres://digest@db/ledger');
    expect(redactStateUrl('sqlite:state.db')).toBe('sqlite:state.db');
  });
});

describe('openStateStore errors', () => {
  it('unknown scheme: E_CONFIG', async () => {
    await expect(openStateStore('redis://localhost', { baseDir: '/tmp' })).rejects.toMatchObject({ code: 'E_CONFIG' });
  });

  it('unreachable PostgreSQL: E_STATE with the host, never the password', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const err = (await openStateStore('postgres://digest:Sup3rS3cret@127.0.0.1:1/ledger', { baseDir: '/tmp' }).catch(
      (e: unknown) => e,
    )) as { code: string; message: string; hint: string };
    expect(err.code).toBe('E_STATE');
    expect(err.message).toContain('127.0.0.1:1/ledger');
    expect(err.message).not.toContain('Sup3rS3cret');
    expect(JSON.stringify(err)).not.toContain('Sup3rS3cret');
    expect(err.hint).toContain('start-postgres.sh');
  });
});
