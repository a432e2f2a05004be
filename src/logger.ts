import pino, { type DestinationStream, type Logger } from 'pino';

// A password-reset link carries its secret in the path: never log it.
const SECRET_PATHS = /^(\/reset\/)[^/?]+/;

/**
 * Structured JSON logs that never carry personal data or secrets: requests are logged
 * by method and path only (no query, no client address), and credential headers are
 * redacted wherever they appear.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
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
  }, destination);
}
