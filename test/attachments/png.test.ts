/** Our PNG encoder, checked by a decoder we did not write (pngjs): every pixel comes back as written. */
import { randomBytes } from 'node:crypto';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../src/attachments/png.js';

describe('encodePng', () => {
  it.each([
    [1, 1],
    [7, 3],
    [800, 450],
  ])('%i×%i RGBA round-trips through pngjs', (w, h) => {
    const rgba = randomBytes(w * h * 4);
    const png = PNG.sync.read(encodePng(w, h, rgba));
    expect([png.width, png.height]).toEqual([w, h]);
    expect(Buffer.compare(png.data, rgba)).toBe(0);
  });

  it('refuses a buffer of the wrong size', () => {
    expect(() => encodePng(2, 2, Buffer.alloc(15))).toThrow(/15 bytes for 2×2/);
  });
});
