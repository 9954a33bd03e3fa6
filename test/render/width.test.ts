import { describe, expect, it } from 'vitest';
import { displayWidth } from '../../src/render/index.js';

describe('displayWidth fast path for simple scripts', () => {
  it('counts Latin, Cyrillic, box drawing as 1 and still sends the rest through grapheme rules', () => {
    expect(displayWidth('Москва — 184 ₽ █▲')).toBe(17);
    // Soft hyphen is zero-width and ◽ is an emoji: both leave the fast path.
    expect(displayWidth('a\u00adb')).toBe(2);
    expect(displayWidth('◽x')).toBe(3);
    expect(displayWidth('е\u0301ж')).toBe(2);
    expect(displayWidth('👍🏽 ok')).toBe(5);
  });
});
