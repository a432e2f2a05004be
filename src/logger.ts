import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

// Capability links carry their secret in the path (a password reset, a picture an app
// was given, the undoing of a second factor, an invitation to own an app): whoever reads
// the log could use them, so they are never logged.
const SECRET_PATHS = /^(\/(?:reset|images|second-factor\/undo|dashboard\/owner-invitations)\/)[^/?]+/;

/**
 * Structured JSON logs that never carry personal data or secrets: requests are logged
 * by method and path only (no query, no client address), and credential headers are
 * redacted wherever they appear. `pretty` prints them for a person at a terminal
 * (development only: production keeps one JSON object per line for its log collector).
 */
export function createLogger(level: string, destination?: DestinationStream, options: { pretty?: boolean } = {}): Logger {
  const stream = options.pretty
    ? pretty({ destination: destination ?? 1, sync: true, colorize: destination === undefined && process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' })
    : destination;
  return pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-ukey1-signature"]', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { id?: string; method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url?.split('?')[0]?.replace(SECRET_PATHS, '$1[redacted]'),
      }),
    },
  }, stream);
}

/** Whether this process logs for a person: outside production, to a terminal. */
export const logsForAPerson = (production: boolean): boolean => !production && process.stdout.isTTY === true;
