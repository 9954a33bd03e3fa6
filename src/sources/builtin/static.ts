import { z } from 'zod';
import { defineSource, lazySchema } from '../define.js';

const options = lazySchema(() =>
  z
    .object({
      data: z.record(z.string(), z.unknown()).describe('The object returned as the metrics'),
    })
    .strict(),
);

/** Fixed data from the config itself: handy for examples, tests and hand-maintained numbers. */
export default defineSource({
  name: 'static',
  description: 'Данные прямо из конфига (для примеров и ручных цифр).',
  get options() {
    return options();
  },
  collect(ctx) {
    return ctx.options.data;
  },
});
