/** Errors of @joules/config. Each carries a stable string `code`. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A config file could not be read or parsed (missing, unreadable, bad YAML/JSON). */
export class ConfigFileError extends ConfigError {
  override name = 'ConfigFileError';
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, 'CONFIG_FILE', options);
    this.file = file;
  }
}

/** A config failed validation; `errors` holds every problem as `path: message`. */
export class ConfigValidationError extends ConfigError {
  override name = 'ConfigValidationError';
  readonly errors: readonly string[];
  readonly file: string | undefined;
  constructor(errors: readonly string[], file?: string) {
    const where = file ? `${file}: ` : '';
    super(`${where}invalid config\n${errors.map((e) => `  ${e}`).join('\n')}`, 'CONFIG_INVALID');
    this.errors = errors;
    this.file = file;
  }
}
