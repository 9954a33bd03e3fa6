/**
 * Field checks that need more than zod: cron syntax, IANA zones, locales. Each returns a problem
 * (message with the bad value, hint with the fix) or undefined.
 */
import { CronError, isValidTimeZone, parseCron } from '../scheduler/index.js';
import { isDigestError } from '../errors.js';
import { didYouMean } from './issues.js';

export interface FieldProblem {
  message: string;
  hint: string;
}

export function checkCron(expression: string): FieldProblem | undefined {
  try {
    parseCron(expression);
    return undefined;
  } catch (err) {
    if (err instanceof CronError || isDigestError(err)) {
      return {
        message: `invalid schedule ${JSON.stringify(expression)}: ${err.message}`,
        hint: err.hint ?? 'write five cron fields, e.g. "0 9 * * 1-5", or a macro such as @daily',
      };
    }
    throw err;
  }
}

let zones: string[] | undefined;

export function checkTimeZone(tz: string): FieldProblem | undefined {
  if (isValidTimeZone(tz)) return undefined;
  zones ??= [...Intl.supportedValuesOf('timeZone'), 'UTC'];
  const guess = didYouMean(tz, zones);
  return {
    message: `unknown time zone ${JSON.stringify(tz)}`,
    hint: guess ? `did you mean "${guess}"?` : 'use an IANA time zone name such as Europe/Moscow, Asia/Yekaterinburg or UTC',
  };
}

export function checkLocale(locale: string): FieldProblem | undefined {
  try {
    Intl.getCanonicalLocales(locale);
  } catch {
    return {
      message: `invalid locale ${JSON.stringify(locale)}`,
      hint: locale.includes('_')
        ? `locales use "-", not "_": write "${locale.replace(/_/g, '-')}"`
        : 'use a BCP 47 language tag such as ru-RU or en-US',
    };
  }
  if (Intl.NumberFormat.supportedLocalesOf([locale]).length === 0) {
    return {
      message: `locale ${JSON.stringify(locale)} is not supported by this Node.js build`,
      hint: 'use a locale Node.js knows (full ICU), such as ru-RU or en-US',
    };
  }
  return undefined;
}
