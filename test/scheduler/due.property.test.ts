/**
 * Property tests of `dueSlots` against a brute-force oracle that lives only here: it walks wall-clock time minute
 * by minute (second by second for 6-field crons) in the job's zone with Intl — not the scheduler's zone or cron
 * code — and matches each wall time against the cron's fields as generated (not as parsed). A wall time skipped
 * by a spring-forward gap fires at the first instant after the gap; one repeated by a fall-back fires once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueSlots, parseCron, type DuePlan, type LedgerFacts } from '../../src/scheduler/index.js';

const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Australia/Lord_Howe', 'Europe/Moscow'] as const;
/** Days near the 2026 DST changes of those zones (the oracle walks ±2 days around them). */
const BASES = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-10-04', '2026-10-25', '2026-11-01'].map((d) => Date.parse(`${d}T00:00:00Z`));
const MIN = 60_000;
const HOUR = 60 * MIN;

interface Field {
  text: string;
  values: Set<number>;
}

/** One cron field from the generated structure, with its value set computed here. */
function field(min: number, max: number, dow = false): fc.Arbitrary<Field> {
  const norm = (v: number) => (dow && v === 7 ? 0 : v);
  const range = (lo: number, hi: number, step: number) => {
    const s = new Set<number>();
    for (let v = lo; v <= hi; v += step) s.add(norm(v));
    return s;
  };
  const starMax = dow ? 6 : max;
  const value = fc.integer({ min, max });
  return fc.oneof(
    fc.constant({ text: '*', values: range(min, starMax, 1) }),
    value.map((v) => ({ text: String(v), values: new Set([norm(v)]) })),
    fc.integer({ min: 1, max: Math.min(30, max - min + 1) }).map((k) => ({ text: `*/${k}`, values: range(min, starMax, k) })),
    fc
      .tuple(value, value, fc.integer({ min: 1, max: Math.min(10, max - min + 1) }))
      .map(([a, b, k]) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        return { text: k === 1 ? `${lo}-${hi}` : `${lo}-${hi}/${k}`, values: range(lo, hi, k) };
      }),
    fc.uniqueArray(value, { minLength: 2, maxLength: 4 }).map((vs) => ({ text: vs.join(','), values: new Set(vs.map(norm)) })),
  );
}

interface GenCron {
  text: string;
  seconds: Field | null;
  minute: Field;
  hour: Field;
  dom: Field;
  month: Field;
  dow: Field;
}

/** Dense enough to fire within a walk of a few days: the hour and day fields lean towards `*`. */
const minuteCron: fc.Arbitrary<GenCron> = fc
  .record({
    minute: field(0, 59),
    hour: fc.oneof({ weight: 2, arbitrary: fc.constant({ text: '*', values: new Set(Array.from({ length: 24 }, (_, i) => i)) }) }, { weight: 3, arbitrary: field(0, 23) }),
    dom: fc.oneof({ weight: 3, arbitrary: fc.constant({ text: '*', values: new Set(Array.from({ length: 31 }, (_, i) => i + 1)) }) }, { weight: 1, arbitrary: field(1, 31) }),
    dow: fc.oneof({ weight: 3, arbitrary: fc.constant({ text: '*', values: new Set([0, 1, 2, 3, 4, 5, 6]) }) }, { weight: 1, arbitrary: field(0, 7, true) }),
  })
  .map((f) => ({
    ...f,
    seconds: null,
    month: { text: '*', values: new Set(Array.from({ length: 12 }, (_, i) => i + 1)) },
    text: `${f.minute.text} ${f.hour.text} ${f.dom.text} * ${f.dow.text}`,
  }));

const secondCron: fc.Arbitrary<GenCron> = fc
  .record({ seconds: field(0, 59), minute: field(0, 59), hour: field(0, 23) })
  .map((f) => {
    const all = (lo: number, hi: number) => ({ text: '*', values: new Set(Array.from({ length: hi - lo + 1 }, (_, i) => i + lo)) });
    return {
      ...f,
      dom: all(1, 31),
      month: all(1, 12),
      dow: all(0, 6),
      text: `${f.seconds.text} ${f.minute.text} ${f.hour.text} * * *`,
    };
  });

/** Wall time (as a UTC-epoch number) shown in `zone` at instant t: Intl only. */
function wallOf(zone: string, t: number): number {
  const parts = formatter(zone).formatToParts(new Date(t));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
}
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

function matches(c: GenCron, wall: number): boolean {
  const d = new Date(wall);
  if (c.seconds ? !c.seconds.values.has(d.getUTCSeconds()) : d.getUTCSeconds() !== 0) return false;
  if (!c.minute.values.has(d.getUTCMinutes()) || !c.hour.values.has(d.getUTCHours()) || !c.month.values.has(d.getUTCMonth() + 1)) return false;
  const domOk = c.dom.values.has(d.getUTCDate());
  const dowOk = c.dow.values.has(d.getUTCDay());
  // Vixie cron: both day fields restricted (not starting with `*`) means either may match.
  const either = !c.dom.text.startsWith('*') && !c.dow.text.startsWith('*');
  return either ? domOk || dowOk : domOk && dowOk;
}

/** Every slot instant in [from, to], ascending, by walking instants and the wall times they reveal. */
function oracleSlots(c: GenCron, zone: string, from: number, to: number): number[] {
  const step = c.seconds ? 1000 : MIN;
  let t = Math.floor(from / step) * step;
  let maxWall = wallOf(zone, t);
  const out: number[] = [];
  for (t += step; t <= to; t += step) {
    const w = wallOf(zone, t);
    // Walls in (maxWall, w]: one in normal time, a whole gap after a spring-forward, none while a fall-back
    // repeats walls already shown. Each fires at the first instant that shows it or a later wall.
    let fired = false;
    for (let v = maxWall + step; v <= w; v += step) if (matches(c, v)) fired = true;
    if (fired) out.push(t);
    if (w > maxWall) maxWall = w;
  }
  return out;
}

interface Scenario {
  cron: GenCron;
  zone: string;
  now: number;
  deadline: number;
  policy: 'latest' | 'all' | 'none';
  maxCatchUp: number;
  facts: LedgerFacts;
}

/** The specification of due.ts, restated over the oracle's slot list. */
function expected(sc: Scenario, slots: number[]): Omit<DuePlan, 'reasons' | 'latest'> {
  const { facts, now, deadline } = sc;
  let resume: number | null = null;
  const last = facts.lastRun;
  if (last && (last.status === 'interrupted' || (last.status === 'running' && last.leaseUntil.getTime() <= now)) && now - last.slot.getTime() <= deadline) {
    resume = last.slot.getTime();
  }
  const lower = Math.max(-Infinity, ...[last?.slot, facts.firstSeen, facts.handledUpTo].filter((d): d is Date => !!d).map((d) => d.getTime()));
  const inWindow = slots.filter((s) => s <= now && now - s <= deadline && s > lower);
  const latest = slots.filter((s) => s <= now).at(-1);
  const onTime = (s: number) => (facts.watchingSince ? s > facts.watchingSince.getTime() : s === latest);
  let run: number[];
  if (sc.policy === 'all') run = inWindow.slice(-sc.maxCatchUp);
  else if (sc.policy === 'latest') run = inWindow.slice(-1);
  else run = inWindow.length > 0 && onTime(inWindow.at(-1)!) ? inWindow.slice(-1) : [];
  return { resume: resume === null ? null : new Date(resume), run: run.map((s) => new Date(s)), skipped: inWindow.length - run.length };
}

function check(sc: Scenario): void {
  // Walk from well before the window so the walk's wall-time high-water mark is settled at its start.
  const slots = oracleSlots(sc.cron, sc.zone, sc.now - sc.deadline - 3 * HOUR, sc.now);
  const job = { name: 'j', schedule: parseCron(sc.cron.text), timezone: sc.zone, catchUp: sc.policy, startingDeadlineMs: sc.deadline };
  const got = dueSlots(job, sc.facts, new Date(sc.now), { maxCatchUp: sc.maxCatchUp, countLimit: 100_000 });
  const want = expected(sc, slots);
  const iso = (p: { resume: Date | null; run: Date[]; skipped: number }) => ({
    resume: p.resume?.toISOString() ?? null,
    run: p.run.map((d) => d.toISOString()),
    skipped: p.skipped,
  });
  expect(iso(got), `${sc.cron.text} in ${sc.zone} at ${new Date(sc.now).toISOString()}`).toEqual(iso(want));
  const latest = slots.filter((s) => s <= sc.now).at(-1);
  if (latest !== undefined) expect(got.latest?.toISOString()).toBe(new Date(latest).toISOString());
  else expect(got.latest === null || got.latest.getTime() < sc.now - sc.deadline - 3 * HOUR).toBe(true);
  // Whatever the facts: nothing twice, nothing in the future, nothing past the deadline, ascending.
  const all = got.run.map((d) => d.getTime());
  expect(new Set(all).size).toBe(all.length);
  expect([...all].sort((a, b) => a - b)).toEqual(all);
  for (const s of all) expect(s <= sc.now && sc.now - s <= sc.deadline).toBe(true);
  if (got.resume) expect(all).not.toContain(got.resume.getTime());
}

function scenario(cron: fc.Arbitrary<GenCron>, maxDeadline: number, step: number): fc.Arbitrary<Scenario> {
  return fc
    .record({
      cron,
      zone: fc.constantFrom(...ZONES),
      now: fc.tuple(fc.constantFrom(...BASES), fc.integer({ min: -48 * 60, max: 48 * 60 }), fc.integer({ min: 0, max: 59_999 })).map(([b, m, ms]) => b + m * MIN + ms),
      deadline: fc.integer({ min: 1, max: Math.floor(maxDeadline / step) }).map((n) => n * step),
      policy: fc.constantFrom('latest' as const, 'all' as const, 'none' as const),
      maxCatchUp: fc.integer({ min: 1, max: 6 }),
      // Offsets back from now (in steps) for the facts, or null.
      last: fc.option(fc.record({ back: fc.integer({ min: 0, max: Math.floor((maxDeadline * 1.5) / step) }), status: fc.constantFrom('running' as const, 'succeeded' as const, 'failed' as const, 'skipped' as const, 'interrupted' as const), lease: fc.integer({ min: -10, max: 10 }) })),
      firstSeenBack: fc.option(fc.integer({ min: 0, max: Math.floor((maxDeadline * 1.5) / step) })),
      watchingBack: fc.option(fc.integer({ min: 0, max: Math.floor((maxDeadline * 1.5) / step) })),
      handledBack: fc.option(fc.integer({ min: 0, max: Math.floor((maxDeadline * 1.5) / step) })),
    })
    .map((r) => {
      const back = (n: number | null) => (n === null ? null : new Date(r.now - n * step));
      return {
        cron: r.cron,
        zone: r.zone,
        now: r.now,
        deadline: r.deadline,
        policy: r.policy,
        maxCatchUp: r.maxCatchUp,
        facts: {
          lastRun: r.last ? { slot: back(r.last.back)!, status: r.last.status, leaseUntil: new Date(r.now + r.last.lease * 1000) } : null,
          firstSeen: back(r.firstSeenBack),
          watchingSince: back(r.watchingBack),
          handledUpTo: back(r.handledBack),
        },
      };
    });
}

describe('dueSlots against a wall-clock-walking oracle', () => {
  it('5-field crons, DST zones, any ledger facts and policy', () => {
    fc.assert(fc.property(scenario(minuteCron, 36 * HOUR, MIN), (sc) => check(sc)), { numRuns: 150 });
  }, 120_000);

  it('6-field (seconds) crons', () => {
    fc.assert(fc.property(scenario(secondCron, 90 * MIN, 1000), (sc) => check(sc)), { numRuns: 25 });
  }, 120_000);

  it('downtime: after a restart, latest runs the newest missed slot, all runs every missed one (capped), none none', () => {
    const downtime = fc
      .record({
        cron: minuteCron,
        zone: fc.constantFrom(...ZONES),
        base: fc.constantFrom(...BASES),
        downFrom: fc.integer({ min: -40 * 60, max: 20 * 60 }),
        downFor: fc.integer({ min: 1, max: 20 * 60 }),
        deadline: fc.integer({ min: 1, max: 24 * 60 }).map((n) => n * MIN),
        policy: fc.constantFrom('latest' as const, 'all' as const, 'none' as const),
        maxCatchUp: fc.integer({ min: 1, max: 100 }),
      })
      .map((r) => ({ ...r, down: r.base + r.downFrom * MIN, now: r.base + (r.downFrom + r.downFor) * MIN + 7_000 }));
    fc.assert(
      fc.property(downtime, (d) => {
        // The last slot the process ran before it went down is in the ledger; everything after was missed.
        const before = oracleSlots(d.cron, d.zone, d.down - 2 * 24 * HOUR, d.down).at(-1);
        const sc: Scenario = {
          cron: d.cron,
          zone: d.zone,
          now: d.now,
          deadline: d.deadline,
          policy: d.policy,
          maxCatchUp: d.maxCatchUp,
          facts: {
            lastRun: before === undefined ? null : { slot: new Date(before), status: 'succeeded', leaseUntil: new Date(before + MIN) },
            firstSeen: new Date(d.base - 3 * 24 * HOUR),
            watchingSince: new Date(d.now),
          },
        };
        check(sc);
        const missed = oracleSlots(d.cron, d.zone, d.down - 3 * HOUR, d.now).filter((s) => s > d.down && d.now - s <= d.deadline);
        const got = dueSlots(
          { name: 'j', schedule: parseCron(d.cron.text), timezone: d.zone, catchUp: d.policy, startingDeadlineMs: d.deadline },
          sc.facts,
          new Date(d.now),
          { maxCatchUp: d.maxCatchUp },
        ).run.map((x) => x.getTime());
        if (d.policy === 'latest') expect(got).toEqual(missed.slice(-1));
        if (d.policy === 'none') expect(got).toEqual([]);
        if (d.policy === 'all') expect(got).toEqual(missed.slice(-d.maxCatchUp));
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});
