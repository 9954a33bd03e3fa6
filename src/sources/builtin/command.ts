import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { defineSource, lazySchema } from '../define.js';
import { SourceError } from '../errors.js';
import { formatBytes } from '../http-client.js';
import { fillPlaceholders, placeholderValues } from '../placeholders.js';

export const COMMAND_DEFAULTS = {
  maxOutput: 1024 * 1024,
  /** Characters of stderr quoted in a failure. */
  stderrTail: 800,
  /** Between SIGTERM and SIGKILL when the deadline passes. */
  killGraceMs: 2_000,
  /** After the program exits, how long its stdout may still deliver what was already written. */
  drainMs: 1_000,
} as const;

const options = lazySchema(() =>
  z
    .object({
      argv: z.array(z.string()).min(1).describe('Program and arguments, e.g. ["./scripts/report.sh", "{{period.startIso}}"]'),
      env_allow: z.array(z.string()).optional().describe('Environment variables passed through (PATH always is)'),
      env: z.record(z.string(), z.string()).optional().describe('Extra environment variables'),
      cwd: z.string().optional().describe('Working directory, relative to the config directory (default: it)'),
      max_output: z.number().int().positive().default(COMMAND_DEFAULTS.maxOutput).describe('Largest accepted stdout, bytes'),
    })
    .strict(),
);

/**
 * Runs a program (no shell) and parses its stdout as JSON. The environment is an allowlist: PATH,
 * the names in `env_allow` copied from our environment, and `env`. Arguments may use the period
 * placeholders ({{period.startIso}} …). On timeout or cancel the whole process group is killed
 * (SIGTERM, then SIGKILL), so shell scripts do not leave children behind.
 */
export default defineSource({
  name: 'command',
  description: 'Запуск программы без shell; stdout — JSON.',
  get options() {
    return options();
  },
  // Without running it: the working directory exists and the program is an executable file.
  async check(ctx) {
    const o = ctx.options;
    const cwd = workDir(ctx.configDir, o.cwd);
    if (!isDirectory(cwd)) throw new SourceError(`working directory not found: ${cwd}`, { hint: '`cwd:` is relative to the directory of the config file.' });
    const name = o.argv[0]!;
    // A program named by a placeholder is only known at run time.
    if (name.includes('{{')) return;
    const found = name.includes('/') ? [programPath(cwd, name)] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
    if (found.some(isExecutable)) return;
    const there = found.find((f) => existsSync(f));
    throw new SourceError(there ? `${name} is not executable: ${there}` : `program not found: ${name}`, {
      hint: there ? `chmod +x ${there}` : name.includes('/') ? `Relative programs are resolved against ${cwd}.` : 'It is looked up in PATH; give a path (./scripts/x.sh) for a program next to the config.',
    });
  },
  async collect(ctx) {
    const o = ctx.options;
    const { spawn } = await import('node:child_process');
    const values = placeholderValues(ctx);
    const argv = o.argv.map((a) => fillPlaceholders(a, values));
    const cwd = workDir(ctx.configDir, o.cwd);
    const prog = programPath(cwd, argv[0]!);
    const env: Record<string, string> = {};
    for (const name of ['PATH', ...(o.env_allow ?? [])]) {
      const v = process.env[name];
      if (v !== undefined) env[name] = v;
    }
    Object.assign(env, o.env);
    const label = argv[0]!;

    return await new Promise<unknown>((resolvePromise, reject) => {
      let child: import('node:child_process').ChildProcess;
      try {
        // detached: a process group of its own, so a timeout can kill grandchildren too.
        child = spawn(prog, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        reject(new SourceError(`cannot start ${label}: ${(err as Error).message}`, { cause: err }));
        return;
      }
      const out: Buffer[] = [];
      let outSize = 0;
      let errTail = '';
      let failure: SourceError | undefined;
      let killTimer: NodeJS.Timeout | undefined;

      const killGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid) process.kill(-child.pid, signal);
        } catch {
          /* already gone */
        }
      };
      const stop = () => {
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), COMMAND_DEFAULTS.killGraceMs);
        killTimer.unref();
      };
      const onAbort = () => stop();
      ctx.signal.addEventListener('abort', onAbort, { once: true });

      child.stdout!.on('data', (chunk: Buffer) => {
        outSize += chunk.length;
        if (outSize > o.max_output) {
          if (!failure) {
            failure = new SourceError(`${label} printed more than ${formatBytes(o.max_output)}`, {
              hint: 'Print less, or raise the source\'s `max_output`.',
            });
            stop();
          }
          return;
        }
        out.push(chunk);
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        errTail = (errTail + chunk.toString('utf8')).slice(-COMMAND_DEFAULTS.stderrTail * 2);
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        failure ??= new SourceError(`cannot start ${label}: ${err.code === 'ENOENT' ? 'not found' : err.message}`, {
          hint: err.code === 'ENOENT' ? `Relative programs are resolved against ${cwd}; others are looked up in PATH.` : undefined,
          cause: err,
        });
      });
      // Resolve on the program's exit, not on stdout's end: a child it left behind may hold the pipe
      // open forever. The leader is gone, so its process group is killed (SIGKILL: nothing of it
      // may outlive the run), then stdout gets a moment to drain what was already written.
      let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let drainTimer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = () => {
        if (done || !exited) return;
        done = true;
        ctx.signal.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        if (drainTimer) clearTimeout(drainTimer);
        child.stdout!.destroy();
        child.stderr!.destroy();
        const { code, signal } = exited;
        if (ctx.signal.aborted) return reject(ctx.signal.reason);
        if (failure) return reject(failure);
        const tail = errTail.trim().slice(-COMMAND_DEFAULTS.stderrTail);
        if (code !== 0) {
          return reject(
            new SourceError(`${label} exited with ${signal ? `signal ${signal}` : `code ${code}`}${tail ? `: ${tail}` : ''}`),
          );
        }
        const text = Buffer.concat(out).toString('utf8').trim();
        if (text === '') return reject(new SourceError(`${label} printed nothing; expected JSON on stdout`));
        try {
          resolvePromise(JSON.parse(text));
        } catch (err) {
          reject(
            new SourceError(`${label} did not print JSON: ${(err as Error).message}; stdout starts with ${JSON.stringify(text.slice(0, 120))}`, {
              hint: 'Print only JSON to stdout; send logs to stderr.',
            }),
          );
        }
      };
      child.on('exit', (code, signal) => {
        exited = { code, signal };
        killGroup('SIGKILL');
        drainTimer = setTimeout(finish, COMMAND_DEFAULTS.drainMs);
      });
      child.on('close', (code, signal) => {
        exited ??= { code, signal };
        finish();
      });
    });
  },
});

function workDir(configDir: string, cwd: string | undefined): string {
  return cwd ? (isAbsolute(cwd) ? cwd : resolve(configDir, cwd)) : configDir;
}

/** `./x.sh` and `bin/x` are relative to the working directory; a bare name is looked up in PATH. */
function programPath(cwd: string, prog: string): string {
  return prog.includes('/') && !isAbsolute(prog) ? resolve(cwd, prog) : prog;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
