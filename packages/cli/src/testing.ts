/** Test helpers: run `main` with captured output against a server, and write input files to a temp folder. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from './io.ts';
import { main } from './main.ts';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A captured output stream. */
export function captureStream(isTTY = false): { write(text: string): boolean; isTTY: boolean; text: string } {
  return {
    isTTY,
    text: '',
    write(text: string) {
      this.text += text;
      return true;
    },
  };
}

/** A folder for input files, removed by `cleanup()`. */
export function tempFolder(): { dir: string; write(name: string, content: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'dimmer-cli-'));
  return {
    dir,
    write(name, content) {
      writeFileSync(join(dir, name), content);
      return name;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs the CLI with `args`, the given environment and working folder, and captures its output. */
export async function runCli(args: readonly string[], io: Partial<CliIo> = {}): Promise<RunResult> {
  const stdout = captureStream(io.stdout?.isTTY === true);
  const stderr = captureStream();
  const code = await main(args, {
    env: {},
    cwd: process.cwd(),
    ...io,
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
