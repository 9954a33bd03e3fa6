import { z } from 'zod';
import { defineSource } from '../define.js';

/** Fixed data from the config itself: handy for examples, tests and hand-maintained numbers. */
export default defineSource({
  name: 'static',
  description: 'Данные прямо из конфига (для примеров и ручных цифр).',
  options: z
    .object({
      data: z.record(z.string(), z.unknown()).describe('The object returned as the metrics'),
    })
    .strict(),
  collect(ctx) {
    return ctx.options.data;
  },
});
