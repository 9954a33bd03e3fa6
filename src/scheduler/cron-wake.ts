/**
 * node-cron wake-ups for the daemon: a firing only wakes its loop, which decides what is due.
 * One task per distinct (schedule, time zone), not per job: each task runs its own timer every
 * second, and a thousand jobs on one schedule were a thousand timers. Expressions node-cron
 * rejects (e.g. `5/10`) get no task; the loop's own timer covers them.
 */
import { createTask, validate as nodeCronValidate, type ScheduledTask } from 'node-cron';

export class CronWakeups {
  #tasks = new Map<string, ScheduledTask>();

  constructor(private readonly wake: () => void) {}

  /** Created, not started: start() arms them, so a constructed-but-idle daemon owns no timers. */
  add(job: { name: string; schedule: string; timezone: string }): void {
    const key = `${job.schedule}\u0000${job.timezone}`;
    if (this.#tasks.has(key) || !nodeCronValidate(job.schedule)) return;
    this.#tasks.set(
      key,
      createTask(job.schedule, () => this.wake(), {
        name: `pachca-digest:${job.name}`,
        timezone: job.timezone,
        // Late firings are harmless (the loop decides what is due); no console warnings.
        suppressMissedWarning: true,
      }),
    );
  }

  start(): void {
    for (const task of this.#tasks.values()) {
      void task.start();
      // The loop's own timer keeps the process alive; node-cron's must not hold it open after stop().
      task.unref();
    }
  }

  /** Destroys every task; add() builds the set again (a reload). */
  stop(): void {
    for (const task of this.#tasks.values()) void task.destroy();
    this.#tasks.clear();
  }
}
