export { configSchema, configKeys, envName, profiles } from './schema.ts';
export { bool, durationMs, int, oneOf, path, port, secret, string, stringList, url } from './schema.ts';
export type { ConfigKey, ConfigOf, GatehouseConfig, Profile, Redaction, Setting } from './schema.ts';
export { ConfigError } from './errors.ts';
export type { ConfigProblem } from './errors.ts';
export { loadConfig, parseFlags, CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE } from './load.ts';
export type { FlagSetting, LoadConfigOptions, ParsedFlags } from './load.ts';
export { describeConfig, redactUrl } from './redact.ts';
export { renderConfigDocs } from './docs.ts';
