import { describe, expect, test } from 'vitest';
import { isActionButton } from '../../src/config/types.js';
import { planMessages, baseContext } from '../../src/pipeline/plan.js';
import { decodeButtonData } from '../../src/interactions/index.js';
import { load, loadError } from './helpers.js';

const job = (buttons: string, extra = '') => `version: 1
${extra}
jobs:
  - name: daily
    schedule: "0 9 * * *"
    source: { type: static, data: { count: 3 } }
    template: daily.hbs
    target:
      chat_id: 123
      buttons:
${buttons}
`;

const ALL = `        - - { text: "🔄 Обновить", action: refresh }
          - { text: "✅ Принято", action: acknowledge }
          - { text: "Подробнее", action: details, template: details.hbs }
          - { text: "Отписаться", action: unsubscribe }
        - - { text: "Отчёт", url: "https://example.com/r" }`;

describe('action buttons and events in the config', () => {
  test('loads action buttons beside URL buttons and plans data buttons carrying the payload', async () => {
    const c = await load(job(ALL, 'events: { mode: poll }'), { files: { 'templates/details.hbs': 'Подробно: {{metrics.count}}\n' } });
    const j = c.jobs[0]!;
    const row = j.targets[0]!.buttons[0]!;
    expect(row.map((b) => (isActionButton(b) ? b.action : 'url'))).toEqual(['refresh', 'acknowledge', 'details', 'unsubscribe']);
    expect(c.events).toEqual({ mode: 'poll', pollIntervalMs: 5000, path: '/pachca/webhook', maxAgeMs: 60_000 });
    const slot = new Date('2026-12-01T09:00:00Z');
    const plan = planMessages(j, baseContext(j, { metrics: { count: 3 }, period: {} as never, slot, now: slot, previous: null }));
    const buttons = plan.messages[0]!.input.buttons!;
    expect(buttons[1]).toEqual([{ text: 'Отчёт', url: 'https://example.com/r' }]);
    const decoded = buttons[0]!.map((b) => decodeButtonData(b.data));
    expect(decoded.map((d) => d.ok && d.payload)).toEqual(
      ['refresh', 'acknowledge', 'details', 'unsubscribe'].map((action) => ({ action, job: 'daily', slot, target: 0, key: 'chat:123' })),
    );
    for (const b of buttons[0]!) expect(b.data!.length).toBeLessThanOrEqual(255);
  });

  test('details needs a template; template belongs to details only; unknown actions are refused', async () => {
    const e1 = await loadError(job('        - { text: "x", action: details }', 'events: {}'));
    expect(e1.format()).toMatch(/`details` button needs `template:`/);
    const e2 = await loadError(job('        - { text: "x", action: refresh, template: a.hbs }', 'events: {}'));
    expect(e2.format()).toMatch(/belongs to `details` buttons/);
    const e3 = await loadError(job('        - { text: "x", action: explode }', 'events: {}'));
    expect(e3.format()).toMatch(/buttons/);
  });

  test('a job name too long for 255 characters of button data is refused at load', async () => {
    const long = 'j'.repeat(230);
    const e = await loadError(job('        - { text: "x", action: refresh }', 'events: {}').replace('name: daily', `name: ${long}`));
    expect(e.format()).toMatch(/Pachca allows 255/);
  });

  test('button text over 255 characters: refused at validate when static, at render when templated', async () => {
    const long = 'ю'.repeat(256);
    const e = await loadError(job(`        - { text: "${long}", url: "https://example.com/r" }`));
    expect(e.format()).toMatch(/button text is 256 characters; Pachca allows at most 255/);
    expect(e.format()).toMatch(/buttons\.0\.text|buttons\[0\]\.text/);
    // Exactly 255 is fine.
    await load(job(`        - { text: "${'ю'.repeat(255)}", url: "https://example.com/r" }`));
    const c = await load(job('        - { text: "{{metrics.label}}", url: "https://example.com/r" }'));
    const j = c.jobs[0]!;
    const ctx = (label: string) => baseContext(j, { metrics: { label, count: 1 }, period: { start: new Date(), end: new Date(), startIso: '', endIso: '', timezone: 'UTC' }, slot: new Date(), now: new Date(), previous: null });
    expect(planMessages(j, ctx('коротко')).messages[0]!.input.buttons).toEqual([[{ text: 'коротко', url: 'https://example.com/r' }]]);
    expect(() => planMessages(j, ctx(long))).toThrow(/button text rendered to 256 characters/);
  });

  test('webhook mode needs a signing secret, from the env by default, and never prints it', async () => {
    const e = await loadError(job('        - { text: "x", action: refresh }', 'events: { mode: webhook }'));
    expect(e.format()).toMatch(/PACHCA_WEBHOOK_SECRET/);
    const c = await load(job('        - { text: "x", action: refresh }', 'events: { mode: webhook, path: /hooks/pachca }'), { env: { PACHCA_WEBHOOK_SECRET: 's3cr3t-value' } });
    expect(c.events).toMatchObject({ mode: 'webhook', path: '/hooks/pachca', signingSecret: 's3cr3t-value' });
    expect(c.secrets).toContain('s3cr3t-value');
  });

  test('action buttons without events: a warning, not an error', async () => {
    const c = await load(job('        - { text: "x", action: refresh }'));
    expect(c.events).toBeUndefined();
    expect(c.warnings.join('\n')).toMatch(/no `events:` section/);
  });
});
