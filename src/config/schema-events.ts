/**
 * The config schema of interactive digests: action buttons in `target.buttons` and the
 * top-level `events:` section (how button clicks reach the service).
 */
import { z } from 'zod';
import { CONFIG_DEFAULTS as D } from './defaults.js';
import { duration } from './schema.js';
import { BUTTON_ACTIONS } from '../interactions/index.js';

export const EVENT_MODES = ['poll', 'webhook'] as const;

export function actionButtonSchema() {
  return z
    .strictObject({
      text: z.string().min(1).describe('Button label; may use `{{…}}` expressions'),
      action: z
        .enum(BUTTON_ACTIONS)
        .describe(
          'What a click does: `refresh` re-collects and edits the message in place, `acknowledge` marks it seen (who and when; the button goes away), ' +
            '`details` sends the clicking user a direct message rendered from `template`, `unsubscribe` opts the user out of this job\'s direct-message fan-outs',
        ),
      template: z.string().min(1).optional().describe('`details` only: the template file of the direct message (relative to templates_dir)'),
    })
    .describe('An action button (a Pachca `data` button; needs `events:` to receive clicks)');
}

export function eventsSchema() {
  const e = D.events;
  return z
    .strictObject({
      mode: z
        .enum(EVENT_MODES)
        .default(e.mode)
        .describe(
          'How button clicks arrive: `poll` reads the bot\'s event history (`GET /webhooks/events`; needs no public URL, enable «Сохранять историю событий» for the bot), ' +
            '`webhook` receives Pachca\'s signed POSTs on the daemon\'s HTTP server (`run --http-port`)',
        ),
      poll_interval: duration().prefault(e.pollInterval).describe('`poll`: pause between two drains of the event history in the daemon'),
      path: z
        .string()
        .regex(/^\/[\w\-./]*$/, { error: 'expected a URL path such as /pachca/webhook' })
        .default(e.path)
        .describe('`webhook`: the path on the daemon\'s HTTP server Pachca posts to'),
      signing_secret: z
        .string()
        .min(1)
        .optional()
        .describe(`\`webhook\`: the bot's signing secret (write \`\${${D.env.webhookSecret}}\`, never the value); default: the ${D.env.webhookSecret} environment variable`),
      max_age: duration().prefault(e.maxAge).describe('`webhook`: a request whose `webhook_timestamp` is older than this is refused (replay protection)'),
    })
    .describe('Receiving button clicks (action buttons)');
}

export type RawEvents = z.output<ReturnType<typeof eventsSchema>>;
export type RawActionButton = z.output<ReturnType<typeof actionButtonSchema>>;
