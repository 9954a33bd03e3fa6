/**
 * The pipeline's real dependencies for a test that calls `runJob` directly: a sandbox, the config
 * loaded from a temp project, an in-memory SQLite ledger and a client; `close` undoes all of it.
 */
import { loadConfig } from '../../src/config/index.js';
import type { LoadedConfig } from '../../src/config/types.js';
import { Emitter, type DigestEvents } from '../../src/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { PachcaClient } from '../../src/pachca/index.js';
import type { RunnerDeps } from '../../src/pipeline/run.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStateStore } from '../../src/state/index.js';
import type { StateStore } from '../../src/state/types.js';
import { project } from '../config/helpers.js';

export interface PipelineHarness {
  sandbox: Sandbox;
  config: LoadedConfig;
  store: StateStore;
  deps: RunnerDeps & { store: StateStore };
  close(): Promise<void>;
}

export async function pipelineHarness(yaml: string, files: Record<string, string>): Promise<PipelineHarness> {
  const sandbox = await startSandbox({ tokens: ['bot-token'], web: false });
  const dir = project(yaml, files);
  const config = await loadConfig({ cwd: dir, env: {} });
  const store = await openStateStore('sqlite::memory:', { baseDir: dir });
  const events = new Emitter<DigestEvents>();
  const client = new PachcaClient({ token: 'bot-token', baseUrl: sandbox.baseUrl, events });
  return {
    sandbox,
    config,
    store,
    deps: { config, events, logger: silentLogger, store, client: () => client, owner: 'test' },
    async close() {
      await client.close();
      await store.close();
      await sandbox.close();
    },
  };
}
