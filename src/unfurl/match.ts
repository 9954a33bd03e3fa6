/**
 * URL patterns of `unfurl:` rules: `https://bi.example.ru/sales/daily?date=:date`. A `:name` stands
 * for one path segment or one query value. Scheme, host and path must match; query parameters the
 * pattern names must be present (others in the URL are ignored, as BI tools add their own).
 */
export interface UrlPattern {
  protocol: string;
  host: string;
  segments: string[];
  query: Array<[key: string, value: string]>;
}

export function parsePattern(pattern: string): UrlPattern {
  // `:name` is not valid in every URL position; swap in a placeholder the URL parser accepts.
  // (`https://` and `host:8443` never match: a parameter name starts with a letter.)
  const url = new URL(pattern.replace(/:([A-Za-z_]\w*)/g, '__p_$1__'));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('the pattern must be an http(s) URL');
  return {
    protocol: url.protocol,
    host: url.host.toLowerCase(),
    segments: splitSegments(url.pathname).map(unplaceholder),
    query: [...url.searchParams.entries()].map(([k, v]) => [k, unplaceholder(v)]),
  };
}

/** The parameters when `url` matches, or null. */
export function matchUrl(p: UrlPattern, url: string): Record<string, string> | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== p.protocol || u.host.toLowerCase() !== p.host) return null;
  const params: Record<string, string> = {};
  const segs = splitSegments(u.pathname);
  if (segs.length !== p.segments.length) return null;
  for (let i = 0; i < segs.length; i++) {
    if (!bind(p.segments[i]!, decodeSafe(segs[i]!), params)) return null;
  }
  for (const [k, v] of p.query) {
    const got = u.searchParams.get(k);
    if (got === null || !bind(v, got, params)) return null;
  }
  return params;
}

/** Fill `:name` in a rule value (e.g. `slot: :date`). */
export function fillParams(value: string, params: Record<string, string>): string {
  return value.replace(/:([A-Za-z_]\w*)/g, (m, name: string) => params[name] ?? m);
}

function bind(pattern: string, value: string, params: Record<string, string>): boolean {
  const m = /^:([A-Za-z_]\w*)$/.exec(pattern);
  if (m) {
    if (value === '') return false;
    params[m[1]!] = value;
    return true;
  }
  return pattern === value;
}

function splitSegments(pathname: string): string[] {
  return pathname.split('/').filter((s) => s !== '');
}

function unplaceholder(s: string): string {
  return s.replace(/__p_([A-Za-z_]\w*?)__/g, ':$1');
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The domains an Unfurl bot must watch for these rules (Pachca's bot settings take up to 5). */
export function unfurlDomains(rules: ReadonlyArray<{ pattern: string }>): string[] {
  const hosts = rules.flatMap((r) => {
    try {
      const p = parsePattern(r.pattern);
      return [new URL(`${p.protocol}//${p.host}`).hostname];
    } catch {
      return []; // an invalid pattern is a config error, reported by validate
    }
  });
  return [...new Set(hosts)];
}
