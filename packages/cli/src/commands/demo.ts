/** `dimmer demo`: a guided guarded rollout on simulated traffic — not built yet (it needs the rollouts API). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';

/** Registers the `demo` command, which for now reports that it is not available. */
export function registerDemoCommand(program: Command, _ctx: CliContext): void {
  program
    .command('demo')
    .description('Run a guarded rollout on simulated traffic (not available yet)')
    .action(() => {
      throw new CliError(
        'dimmer demo is not available yet: it needs the rollouts API and controller. Meanwhile, `dimmer serve` and the `rollouts` commands work.',
      );
    });
}
