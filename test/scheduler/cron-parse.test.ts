import { describe, expect, it } from 'vitest';
import { CronError, parseCron } from '../../src/scheduler/index.js';
import { DigestError } from '../../src/errors.js';

const range = (a: number, b: number, step = 1) => {
  const out: number[] = [];
  for (let v = a; v <= b; v += step) out.push(v);
  return out;
};

describe('parseCron: syntax', () => {
  const cases: Array<[string, Partial<Record<'seconds' | 'minutes' | 'hours' | 'daysOfMonth' | 'months' | 'daysOfWeek', number[]>>]> = [
    ['* * * * *', { seconds: [0], minutes: range(0, 59), hours: range(0, 23), daysOfMonth: range(1, 31), months: range(1, 12), daysOfWeek: range(0, 6) }],
    ['0 9 * * 1-5', { minutes: [0], hours: [9], daysOfWeek: [1, 2, 3, 4, 5] }],
    ['*/15 * * * *', { minutes: [0, 15, 30, 45] }],
    ['1-30/5 * * * *', { minutes: [1, 6, 11, 16, 21, 26] }],
    ['5/10 * * * *', { minutes: [5, 15, 25, 35, 45, 55] }],
    ['0 0,12 * * *', { hours: [0, 12] }],
    ['0 8-10,14,20-23/2 * * *', { hours: [8, 9, 10, 14, 20, 22] }],
    ['0 0 1,15 * *', { daysOfMonth: [1, 15] }],
    ['0 0 1 JAN,jul *', { months: [1, 7] }],
    ['0 0 1 Mar-May *', { months: [3, 4, 5] }],
    ['0 0 * * MON-FRI', { daysOfWeek: [1, 2, 3, 4, 5] }],
    ['0 0 * * sun', { daysOfWeek: [0] }],
    ['0 0 * * 7', { daysOfWeek: [0] }],
    ['0 0 * * 0,7', { daysOfWeek: [0] }],
    ['0 0 * * 5-7', { daysOfWeek: [0, 5, 6] }],
    ['0 0 * * */2', { daysOfWeek: [0, 2, 4, 6] }],
    ['0 0 * * MON-FRI/2', { daysOfWeek: [1, 3, 5] }],
    ['0 0 ? * 1', { daysOfMonth: range(1, 31), daysOfWeek: [1] }],
    ['0 0 1 * ?', { daysOfMonth: [1], daysOfWeek: range(0, 6) }],
    ['*/60 * * * *', { minutes: [0] }],
    ['  0   9  *  *  *  ', { minutes: [0], hours: [9] }],
    ['0\t9 * * *', { minutes: [0], hours: [9] }],
    // six fields: seconds first
    ['* * * * * *', { seconds: range(0, 59), minutes: range(0, 59) }],
    ['*/10 * * * * *', { seconds: [0, 10, 20, 30, 40, 50] }],
    ['30 0 9 * * 1', { seconds: [30], minutes: [0], hours: [9], daysOfWeek: [1] }],
    // macros, case-insensitive
    ['@yearly', { minutes: [0], hours: [0], daysOfMonth: [1], months: [1], daysOfWeek: range(0, 6) }],
    ['@annually', { minutes: [0], hours: [0], daysOfMonth: [1], months: [1] }],
    ['@monthly', { minutes: [0], hours: [0], daysOfMonth: [1], months: range(1, 12) }],
    ['@weekly', { minutes: [0], hours: [0], daysOfMonth: range(1, 31), daysOfWeek: [0] }],
    ['@daily', { minutes: [0], hours: [0], daysOfMonth: range(1, 31) }],
    ['@MIDNIGHT', { minutes: [0], hours: [0] }],
    ['@hourly', { minutes: [0], hours: range(0, 23) }],
  ];
  it.each(cases)('%s', (expr, expected) => {
    const s = parseCron(expr);
    for (const [k, v] of Object.entries(expected)) expect(s[k as keyof typeof expected], k).toEqual(v);
  });

  it('keeps the expression as written and the expanded fields', () => {
    const s = parseCron(' @daily ');
    expect(s.expression).toBe('@daily');
    expect(s.fields).toEqual(['0', '0', '0', '*', '*', '*']);
    expect(s.hasSeconds).toBe(false);
    expect(parseCron('1 2 3 4 5 6').hasSeconds).toBe(true);
  });

  it.each([
    ['0 0 * * *', false, false],
    ['0 0 1 * *', true, false],
    ['0 0 * * 1', false, true],
    ['0 0 1 * 1', true, true],
    ['0 0 */2 * 1', false, true], // Vixie: a field starting with * is unrestricted for the OR rule
    ['0 0 ? * 1', false, true],
  ])('day restriction flags for %s', (expr, dom, dow) => {
    const s = parseCron(expr);
    expect([s.dayOfMonthRestricted, s.dayOfWeekRestricted]).toEqual([dom, dow]);
  });
});

describe('parseCron: errors', () => {
  const cases: Array<[string, string | undefined, string]> = [
    ['0 25 * * *', 'hour', 'hour "25" is out of range 0-23'],
    ['60 * * * *', 'minute', 'minute "60" is out of range 0-59'],
    ['60 * * * * *', 'second', 'second "60" is out of range 0-59'],
    ['0 0 0 * *', 'day-of-month', 'day-of-month "0" is out of range 1-31'],
    ['0 0 32 * *', 'day-of-month', 'day-of-month "32" is out of range 1-31'],
    ['0 0 * 13 *', 'month', 'month "13" is out of range 1-12'],
    ['0 0 * 0 *', 'month', 'month "0" is out of range 1-12'],
    ['0 0 * * 8', 'day-of-week', 'day-of-week "8" is out of range 0-7'],
    ['0 0 * FOO *', 'month', 'month "FOO" is not a month number or name (allowed: 1-12 or JAN-DEC)'],
    ['0 0 * * MONDAY', 'day-of-week', 'day-of-week "MONDAY" is not a weekday number or name (allowed: 0-7 or SUN-SAT)'],
    ['0 MON * * *', 'hour', 'hour "MON" is not a number (allowed: 0-23)'],
    ['x * * * *', 'minute', 'minute "x" is not a number (allowed: 0-59)'],
    ['-1 * * * *', 'minute', 'minute range "-1" is malformed (allowed: 0-59)'],
    ['1.5 * * * *', 'minute', 'minute "1.5" is not a number (allowed: 0-59)'],
    ['5-1 * * * *', 'minute', 'minute range "5-1" goes backwards (allowed: 0-59)'],
    ['0 22-2 * * *', 'hour', 'hour range "22-2" goes backwards (allowed: 0-23)'],
    ['1-2-3 * * * *', 'minute', 'minute range "1-2-3" is malformed (allowed: 0-59)'],
    ['*/0 * * * *', 'minute', 'minute step "0" must be a whole number from 1 to 60'],
    ['*/x * * * *', 'minute', 'minute step "x" must be a whole number from 1 to 60'],
    ['*/61 * * * *', 'minute', 'minute step "61" is out of range 1-60'],
    ['0 */25 * * *', 'hour', 'hour step "25" is out of range 1-24'],
    ['*/5/2 * * * *', 'minute', 'minute "*/5/2" has more than one "/"'],
    ['/5 * * * *', 'minute', 'minute "/5" is missing a value before "/"'],
    ['1,,2 * * * *', 'minute', 'minute "1,,2" has an empty list item'],
    ['1, * * * *', 'minute', 'minute "1," has an empty list item'],
    ['? * * * *', 'minute', 'minute "?" is only allowed in day-of-month and day-of-week'],
    ['0 0 * ? *', 'month', 'month "?" is only allowed in day-of-month and day-of-week'],
    ['* * * *', undefined, 'cron expression "* * * *" has 4 fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (second first)'],
    ['* * * * * * *', undefined, 'has 7 fields'],
    ['daily', undefined, 'has 1 field;'],
    ['', undefined, 'cron expression is empty'],
    ['   ', undefined, 'cron expression is empty'],
    ['@reboot', undefined, 'unknown cron macro "@reboot"'],
    ['@every 5m', undefined, 'unknown cron macro "@every 5m"'],
  ];
  it.each(cases)('%j', (expr, field, message) => {
    let caught: unknown;
    try {
      parseCron(expr);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CronError);
    expect(caught).toBeInstanceOf(DigestError);
    expect(caught).toBeInstanceOf(Error);
    const err = caught as CronError;
    expect(err.message).toContain(message);
    expect(err.field).toBe(field);
    expect(err.code).toBe('E_CONFIG');
    expect(typeof err.hint).toBe('string');
    expect(err.hint.length).toBeGreaterThan(10);
    expect(err.name).toBe('CronError');
  });

  it('the field hint lists what the field accepts', () => {
    expect(() => parseCron('0 0 * * 9')).toThrow(expect.objectContaining({ hint: expect.stringContaining('0 and 7 are Sunday') }));
    expect(() => parseCron('@foo')).toThrow(expect.objectContaining({ hint: expect.stringContaining('@hourly') }));
  });
});

describe('parseCron: one schedule per expression', () => {
  it('returns the same frozen schedule for the same expression, so jobs sharing it share its tables', () => {
    const a = parseCron('0 9 * * 1-5');
    const b = parseCron('0 9 * * 1-5');
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.hours)).toBe(true);
    expect(() => (a.hours as number[]).push(10)).toThrow(TypeError);
    expect(parseCron('0 9 * * 1-5').hours).toEqual([9]);
    // Written differently, parsed separately: the cache is by text, the result by meaning.
    expect(parseCron(' 0 9 * * 1-5 ')).toEqual(a);
  });

  it('an invalid expression still throws every time (errors are not cached as results)', () => {
    expect(() => parseCron('61 * * * *')).toThrow(CronError);
    expect(() => parseCron('61 * * * *')).toThrow(CronError);
  });
});
