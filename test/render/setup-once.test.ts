import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { setupOnce } from '../../src/render/setup-once.js';

describe('setupOnce (the helper table is merged once per template, not per render)', () => {
  const env = Handlebars.create();
  env.registerHelper('shout', (s: string) => `${String(s).toUpperCase()}!`);
  const tpl = setupOnce(env.compile('{{shout name}} {{#each items}}[{{this}}]{{/each}}', { strict: true }));

  it('renders the same as without it, call after call, with the environment helpers', () => {
    const plain = env.compile('{{shout name}} {{#each items}}[{{this}}]{{/each}}', { strict: true });
    for (const ctx of [{ name: 'а', items: [1, 2] }, { name: 'b', items: [] }, { name: 'c', items: ['x'] }]) {
      expect(tpl(ctx)).toBe(plain(ctx));
    }
    expect(tpl({ name: 'ок', items: [3] })).toBe('ОК! [3]');
  });

  it('a call as a partial (with its caller helpers) is followed by a top-level call with the environment ones again', () => {
    env.registerPartial('p', tpl);
    const outer = env.compile('<{{> p}}>');
    expect(outer({ name: 'p', items: [] }, { helpers: { shout: (s: string) => `quiet ${s}` } })).toBe('<quiet p >');
    expect(tpl({ name: 'top', items: [] })).toBe('TOP! ');
  });

  it('per-call helpers are honoured, and the next plain call goes back to the environment', () => {
    expect(tpl({ name: 'x', items: [] }, { helpers: { shout: () => 'own' } })).toBe('own ');
    expect(tpl({ name: 'y', items: [] })).toBe('Y! ');
  });

  it('prototype access stays denied on later renders (the access control is kept, not dropped)', () => {
    const proto = setupOnce(env.compile('[{{constructor.name}}]'));
    expect(proto({})).toBe('[]');
    expect(proto({})).toBe('[]');
  });
});
