/**
 * pachca-digest CLI. Exit codes (stable): 0 success or skipped, 1 a job failed, 2 configuration
 * or usage error. User errors print one readable paragraph; only bugs print a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import dotenv from 'dotenv';
import { EXIT, exitCodeFor, isDigestError } from '../errors.js';
import { processIo, type GlobalOptions, type Io } from './context.js';
import { scrubSecrets } from '../observability/secrets.js';

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.OK;
  const program = new Command();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const set = (p: Promise<number>) => p.then((c) => void (code = c));

  program
    .name('pachca-digest')
    .description('Scheduled digests and reports delivered to Pachca chats.')
    .option('-c, --config <path>', 'config file (default: $PACHCA_DIGEST_CONFIG or ./jobs.config.yaml)')
    .option('--log-level <level>', 'trace, debug, info, warn, error (default: info)')
    .addOption(new Option('--log-format <format>', 'log format (default: pretty on a terminal, json otherwise)').choices(['json', 'pretty', 'auto']))
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('validate')
    .description('load and check the config, sources, schedules and templates; exit 0 or 2')
    .option('--render', 'also render every enabled job against its real data, posting nothing (for CI); exit 1 if one fails')
    .action((flags) => set(import('./commands/validate.js').then((m) => m.validateCommand(flags, globals(), io))));

  program
    .command('list')
    .description('jobs, their schedules, time zones and the next 3 run times')
    .action(() => set(import('./commands/inspect.js').then((m) => m.listCommand(globals(), io))));

  program
    .command('render <job>')
    .description('print exactly the message(s) a run would post, collecting real data; posts nothing')
    .option('--metrics <file>', 'use metrics from a JSON or YAML file instead of the sources')
    .option('--slot <iso>', 'render for this scheduled time (default: the latest slot)')
    .option('--json', 'print the planned messages as JSON')
    .option('--out <dir>', 'write the attachments (charts, tables, CSV, XLSX) to this folder')
    .action((job: string, flags) => set(import('./commands/inspect.js').then((m) => m.renderCommand(job, flags, globals(), io))));

  program
    .command('run-job <job>')
    .description('run one job once now (for Kubernetes CronJobs and by hand)')
    .option('--dry-run', 'print the messages instead of posting them')
    .option('--slot <iso>', 'the scheduled time to run for (default: the latest slot at or before now)')
    .option('--force', 'run the slot again even if it already succeeded')
    .option('--sandbox', 'deliver to a built-in sandbox started in this process')
    .action((job: string, flags) => set(import('./commands/run-job.js').then((m) => m.runJobCommand(job, flags, globals(), io))));

  program
    .command('run')
    .description('the daemon: run every enabled job on its schedule until SIGTERM/SIGINT; SIGHUP reloads the config')
    .option('--sandbox', 'deliver to a built-in sandbox started in this process')
    .option('--http-port <port>', 'serve /metrics, /healthz and /readyz on this port')
    .option('--http-host <host>', 'address for --http-port (default 0.0.0.0)')
    .action((flags) => set(import('./commands/daemon.js').then((m) => m.daemonCommand(flags, globals(), io))));

  program
    .command('run-due')
    .description('run every job whose latest slot is due and not yet claimed, then exit')
    .option('--sandbox', 'deliver to a built-in sandbox started in this process')
    .action((flags) => set(import('./commands/daemon.js').then((m) => m.runDueCommand(flags, globals(), io))));

  program
    .command('events')
    .description('drain the bot\'s event history once (button clicks: refresh, acknowledge, details, unsubscribe), then exit')
    .option('--sandbox', 'use a built-in sandbox started in this process')
    .action((flags) => set(import('./commands/events.js').then((m) => m.eventsCommand(flags, globals(), io))));

  const bot = program.command('bot').description("the bot's side: its outgoing webhook, scopes and event history");
  bot
    .command('webhook')
    .description("set the bot's outgoing webhook URL (\"\" turns it off); with --bot-id also its events")
    .requiredOption('--url <url>', 'where Pachca POSTs events (the daemon serves events.path on --http-port)')
    .option('--events <list>', 'comma-separated events, with --bot-id (default: button_click,message_link_shared)')
    .option('--bot-id <id>', "the bot's id, with a user token that has bots:write (PUT /bots/{id})")
    .option('--sandbox', 'use a built-in sandbox started in this process')
    .action((flags) => set(import('./commands/bot.js').then((m) => m.botWebhookCommand(flags, globals(), io))));
  bot
    .command('status')
    .description("show the token's kind and missing scopes, how events arrive, and the event history's backlog")
    .option('--bot-id <id>', "also show the bot's webhook settings (a user token with bots:read)")
    .option('--sandbox', 'use a built-in sandbox started in this process')
    .action((flags) => set(import('./commands/bot.js').then((m) => m.botStatusCommand(flags, globals(), io))));

  program
    .command('history [job]')
    .description('recent runs from the ledger: slot, status, duration, attempts, messages, error')
    .option('--limit <n>', 'how many runs (default 20)')
    .option('--sandbox', 'runs delivered to a sandbox (the default when PACHCA_TOKEN is not set)')
    .action((job: string | undefined, flags) => set(import('./commands/inspect.js').then((m) => m.historyCommand(job, flags, globals(), io))));

  program
    .command('sandbox')
    .description('start a local Pachca-compatible sandbox server (API + message view)')
    .option('--port <port>', 'port (default 4010)')
    .option('--host <host>', 'address (default 127.0.0.1)')
    .action((flags) => set(import('./commands/daemon.js').then((m) => m.sandboxCommand(flags, globals(), io))));

  program
    .command('schema')
    .description('print the JSON Schema of jobs.config.yaml (for editors)')
    .action(() => set(import('./commands/inspect.js').then((m) => m.schemaCommand(io))));

  program
    .command('sources')
    .description('list the built-in data sources and their options')
    .action(() => set(import('./commands/inspect.js').then((m) => m.sourcesCommand(io))));

  program
    .command('k8s')
    .description('print Kubernetes manifests (a CronJob per job, a ConfigMap) generated from the config')
    .option('--image <image>', 'container image')
    .option('--namespace <ns>', 'namespace (default "default")')
    .option('--skip-unsupported', 'leave out (with a comment) jobs whose seconds-field schedule a CronJob cannot express')
    .action((flags) => set(import('./commands/inspect.js').then((m) => m.k8sCommand(flags, globals(), io))));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    return reportError(err, io);
  }
}

export function reportError(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    // commander already printed the message; help and version are not errors.
    return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (isDigestError(err) && err.code !== 'E_INTERNAL') {
    io.err(scrubSecrets(err.format()));
    return exitCodeFor(err);
  }
  const bug = isDigestError(err) && err.cause ? err.cause : err;
  io.err(scrubSecrets(`internal error (this is a bug in pachca-digest, please report it):\n${bug instanceof Error ? (bug.stack ?? bug.message) : String(bug)}`));
  return EXIT.JOB_FAILED;
}

/** The `pachca-digest` binary (src/cli/bin.ts): process arguments in, exit code out. */
export async function runFromProcess(): Promise<void> {
  // PACHCA_TOKEN and friends may live in ./.env; the real environment wins.
  dotenv.config({ quiet: true });
  // `schema | head -1`: the reader has what it wanted; a closed stdout ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.OK);
    throw err;
  });
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (err) {
    code = reportError(err, processIo);
  }
  process.exitCode = code;
}
