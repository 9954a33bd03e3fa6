/** A Handlebars runtime detail that made every render allocate its helper table anew. */
import type Handlebars from 'handlebars';

type Delegate = Handlebars.TemplateDelegate;
type SetupFn = (options: Handlebars.RuntimeOptions & { partial?: boolean }) => void;

/**
 * Handlebars merges the environment's helpers into a fresh object on every top-level call,
 * wrapping each of them in a new closure: for our hundred helpers about 15 KB of garbage per
 * message, which a thousand runs in a minute turned into tens of MB of heap. An engine's helpers,
 * partials and decorators are fixed once it is built (before any template runs), and we never
 * pass per-call helpers, so the first top-level call's merge is kept. A call as a partial (or with
 * its own helpers) sets the container as before, and the next top-level call merges again.
 */
export function setupOnce(delegate: Delegate): Delegate {
  const tpl = delegate as Delegate & { _setup: SetupFn };
  const setup = tpl._setup;
  let merged = false;
  tpl._setup = (options) => {
    if (options.partial || options.helpers || options.partials || options.decorators) {
      merged = false;
      setup(options);
      return;
    }
    if (merged) return;
    setup(options);
    merged = true;
  };
  return delegate;
}
