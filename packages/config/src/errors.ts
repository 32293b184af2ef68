/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** Dotted path of the key (`server.https_port`); empty when no key is known (unknown flag or variable, TOML syntax). */
  readonly path: string;
  /** Where the value came from: `default`, `/etc/gatehouse.toml:12`, `GATEHOUSE_SERVER_HTTPS_PORT`, `--server.https_port`. */
  readonly source: string;
  readonly message: string;
}

/**
 * Every problem found while loading the configuration, thrown once.
 *
 * @example
 * ```ts
 * try {
 *   config = loadConfig({ argv });
 * } catch (err) {
 *   if (!(err instanceof ConfigError)) throw err;
 *   console.error(err.message); // one problem per line
 *   process.exitCode = 78; // EX_CONFIG
 * }
 * ```
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_ERR_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

function formatProblems(problems: readonly ConfigProblem[]): string {
  const n = problems.length;
  const lines = problems.map(({ path, source, message }) => {
    // The message of an unknown key already names it.
    const head = path && !message.includes(`\`${path}\``) ? `${path}: ` : '';
    return `  - ${head}${message} (from ${source})`;
  });
  return [`Invalid configuration (${n} problem${n === 1 ? '' : 's'}):`, ...lines].join('\n');
}
