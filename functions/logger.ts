/** Severity of a log line, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Fields of one structured log line; never raw feature values. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Writes one JSON object per line. Lines are buffered and written together once per event-loop turn. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Write everything buffered now (before exit). */
  flush(): void;
}

/** Options of {@link createLogger}; `write` receives whole lines, already newline-terminated. */
export interface LoggerOptions {
  level?: LogLevel;
  write: (chunk: string) => void;
  /** Flush early once this much is buffered. */
  maxBufferBytes?: number;
}

/**
 * Create a JSON-lines logger. Writing each line as it comes costs a system call per request; one
 * write per event-loop turn keeps logging off the request path's critical cost without losing
 * order or lines (flush before exit).
 */
export function createLogger({ level = 'info', write, maxBufferBytes = 64 * 1024 }: LoggerOptions): Logger {
  const threshold = LEVELS[level];
  let buffer = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (buffer === '') return;
    const chunk = buffer;
    buffer = '';
    write(chunk);
  };
  const log = (lineLevel: LogLevel, message: string, fields?: LogFields) => {
    if (LEVELS[lineLevel] < threshold) return;
    buffer += `${JSON.stringify({ time: new Date().toISOString(), level: lineLevel, msg: message, ...fields })}\n`;
    if (buffer.length >= maxBufferBytes) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    flush,
  };
}
