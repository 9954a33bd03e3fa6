/**
 * The limiter's settings: merging overrides onto the defaults, checking them at load, and the
 * bucket key of a request. Pure functions, no state.
 */
import { DigestError } from '../errors.js';
import type { BucketClass } from './bucket.js';
import { CLIENT_DEFAULTS, type BucketLimit, type RateLimitSettings } from './defaults.js';

/** Bucket key of a request: the class, plus the chat for message writes. */
export function bucketKey(cls: BucketClass, scope?: string | number): string {
  return cls === 'messageWrite' ? `messageWrite:${scope ?? '?'}` : cls;
}

const CLASSES = ['messageWrite', 'messageRead', 'eventHistory', 'other', 'token'] as const;

export function mergeRateLimits(base: RateLimitSettings, over?: Partial<RateLimitSettings>): RateLimitSettings {
  if (!over) return { ...base };
  const merged: RateLimitSettings = { ...base, ...over };
  for (const k of CLASSES) merged[k] = { ...base[k], ...over[k] } as BucketLimit;
  merged.adaptive = { ...CLIENT_DEFAULTS.rateLimits.adaptive!, ...base.adaptive, ...over.adaptive };
  return merged;
}


export function validateRateLimits(s: RateLimitSettings): void {
  for (const k of CLASSES) {
    const l = s[k];
    if (!(l.perSecond > 0) || !(l.burst >= 1)) {
      throw new DigestError('E_CONFIG', `pachca rate limit ${k} must have perSecond > 0 and burst ≥ 1`, {
        location: { path: `pachca.rateLimits.${k}` },
        hint: `got perSecond=${l.perSecond}, burst=${l.burst}`,
      });
    }
  }
  const a = s.adaptive;
  if (a && !(a.decrease > 0 && a.decrease <= 1 && a.minFactor > 0 && a.minFactor <= 1 && a.recoveryPerSecond >= 0)) {
    throw new DigestError('E_CONFIG', 'pachca.rateLimits.adaptive must have decrease and minFactor in (0, 1] and recoveryPerSecond ≥ 0', {
      location: { path: 'pachca.rateLimits.adaptive' },
    });
  }
  if (!(s.breakerSlowdown > 0 && s.breakerSlowdown <= 1)) {
    throw new DigestError('E_CONFIG', 'pachca.rateLimits.breakerSlowdown must be in (0, 1]', {
      location: { path: 'pachca.rateLimits.breakerSlowdown' },
    });
  }
}

