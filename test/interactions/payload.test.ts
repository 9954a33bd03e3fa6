import { describe, expect, it } from 'vitest';
import { BUTTON_ACTIONS, MAX_BUTTON_DATA, decodeButtonData, encodeButtonData, worstCaseButtonDataLength } from '../../src/interactions/index.js';

const slot = new Date('2026-12-01T09:00:00Z');

describe('button payload codec', () => {
  it('round-trips every action', () => {
    for (const action of BUTTON_ACTIONS) {
      const data = encodeButtonData({ action, job: 'daily-sales', slot, target: 2, key: 'user:7#3' });
      expect(data.startsWith('pd1|')).toBe(true);
      expect(decodeButtonData(data)).toEqual({ ok: true, payload: { action, job: 'daily-sales', slot, target: 2, key: 'user:7#3' } });
    }
  });

  it('stays small: a typical payload is far below the limit', () => {
    const data = encodeButtonData({ action: 'refresh', job: 'daily-sales', slot, target: 0, key: 'chat:101' });
    expect(data.length).toBeLessThan(60);
  });

  it('refuses a payload over 255 characters and reports the worst case for a long job name', () => {
    const job = 'j'.repeat(240);
    expect(() => encodeButtonData({ action: 'refresh', job, slot, target: 0, key: 'chat:1' })).toThrow(/Pachca allows 255/);
    expect(worstCaseButtonDataLength(job, 0)).toBeGreaterThan(MAX_BUTTON_DATA);
    expect(worstCaseButtonDataLength('daily-sales', 0)).toBeLessThanOrEqual(MAX_BUTTON_DATA);
  });

  it('flags a tampered payload as invalid', () => {
    const data = encodeButtonData({ action: 'refresh', job: 'daily-sales', slot, target: 0, key: 'chat:101' });
    const tampered = data.replace('chat:101', 'chat:102');
    const r = decodeButtonData(tampered);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.kind).toBe('invalid');
    expect(decodeButtonData(data.replace('|r|', '|a|'))).toMatchObject({ ok: false, kind: 'invalid' });
    expect(decodeButtonData(`${data}|x`)).toMatchObject({ ok: false, kind: 'invalid' });
  });

  it('flags someone else\'s data or another version as foreign', () => {
    expect(decodeButtonData('button_data')).toMatchObject({ ok: false, kind: 'foreign' });
    expect(decodeButtonData('pd2|r|x|1|0|chat:1|00000000')).toMatchObject({ ok: false, kind: 'foreign' });
    expect(decodeButtonData(undefined)).toMatchObject({ ok: false, kind: 'foreign' });
  });
});
