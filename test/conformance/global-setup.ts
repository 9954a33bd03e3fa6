/**
 * Vitest global setup: every sandbox of the run records its exchanges (the directory is handed to
 * the test workers and every CLI they spawn through the environment), and after the last test the
 * whole run's exchanges of our client are validated against the spec in this one process (the
 * spec compiled once). A violation fails the run with a report naming the test, the exchange and
 * the schema error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXCHANGES_DIR_ENV } from '../../src/sandbox/exchange-recorder.js';
import { checkRecorded, formatReport, readRecorded } from './recorded.js';

export function setup(): () => void {
  const previous = process.env[EXCHANGES_DIR_ENV];
  const dir = mkdtempSync(join(tmpdir(), 'pachca-digest-exchanges-'));
  process.env[EXCHANGES_DIR_ENV] = dir;
  return () => {
    if (previous === undefined) delete process.env[EXCHANGES_DIR_ENV];
    else process.env[EXCHANGES_DIR_ENV] = previous;
    const report = checkRecorded(readRecorded(dir));
    const text = formatReport(report);
    if (report.violations.length > 0) {
      process.stderr.write(`\n${text}\n\nRecorded exchanges kept in ${dir}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`\n${text}\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
