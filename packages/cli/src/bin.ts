#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '@gatehouse/config';
import { helpText } from './help.ts';
import type { Io } from './commands/start.ts';
import { StartupError } from './runtime/node.ts';

const io: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(helpText);
    return command === undefined ? 1 : 0;
  }
  if (command === '--version' || command === '-v') {
    io.out(version());
    return 0;
  }
  if (command === 'lb-config') {
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(helpText);
      return 0;
    }
    const { runLbConfig } = await import('./lb-config/command.ts');
    return runLbConfig(rest, io);
  }
  if (command === 'dev') {
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(helpText);
      return 0;
    }
    if (rest[0] !== 'cluster') {
      io.err(`unknown command "dev ${rest[0] ?? ''}": did you mean "dev cluster"?`);
      return 2;
    }
    const { runDevCluster } = await import('./commands/cluster.ts');
    return runDevCluster(rest.slice(1), io);
  }
  const flags = command === 'config' ? rest.slice(1) : rest;
  if (command === 'config' && rest[0] !== 'check') {
    io.err(`unknown command "config ${rest[0] ?? ''}": did you mean "config check"?`);
    return 2;
  }
  if (!['start', 'migrate', 'config'].includes(command)) {
    io.err(`unknown command "${command}"; run "gatehouse --help"`);
    return 2;
  }
  if (flags.includes('--help') || flags.includes('-h')) {
    io.out(helpText);
    return 0;
  }
  const config = loadConfig({ argv: flags, cwd: process.cwd() });
  switch (command) {
    case 'start': {
      const { runStart } = await import('./commands/start.ts');
      await runStart(config, io);
      return -1; // keeps running until a signal
    }
    case 'migrate': {
      const { runMigrate } = await import('./commands/migrate.ts');
      await runMigrate(config, io);
      return 0;
    }
    default: {
      const { runConfigCheck } = await import('./commands/config-check.ts');
      runConfigCheck(config, io);
      return 0;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof StartupError) {
      io.err(err.message);
      process.exit(2);
    }
    io.err(`gatehouse failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
