import pg from 'pg';

/** Handlers for one channel's notices. */
export interface NoticeHandlers {
  /** A notice's payload, as sent with `pg_notify`. */
  onNotice(payload: string): void;
  /**
   * Listening (re)started after a break: notices sent meanwhile were lost, so whatever
   * they would have invalidated must be treated as changed.
   */
  onResume(): void;
  /** The listening connection failed; it is reopened after a pause. */
  onError?(error: Error): void;
}

export interface NoticeListener {
  close(): Promise<void>;
}

// Long enough not to hammer a server that is restarting, short enough that the gap in
// notices stays within what the once-a-second version check covers anyway.
const RECONNECT_AFTER_MS = 1000;

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * LISTENs on one channel over a connection of its own (a pooled connection would be
 * returned to the pool and stop listening), reconnecting whenever it is lost.
 */
export function listenOnPostgres(url: string, channel: string, handlers: NoticeHandlers): NoticeListener {
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const reconnectLater = (error: Error) => {
    handlers.onError?.(error);
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void open();
    }, RECONNECT_AFTER_MS);
    timer.unref();
  };

  const open = async () => {
    if (closed) return;
    const current = new pg.Client({ connectionString: url, keepAlive: true });
    client = current;
    current.on('notification', (message) => {
      if (message.channel === channel) handlers.onNotice(message.payload ?? '');
    });
    current.on('error', (error) => {
      if (client !== current) return;
      void current.end().catch(() => {});
      reconnectLater(error);
    });
    current.on('end', () => {
      if (client === current && !closed) reconnectLater(new Error('the listening connection ended'));
    });
    try {
      await current.connect();
      await current.query(`listen ${quoteIdentifier(channel)}`);
      handlers.onResume();
    } catch (error) {
      void current.end().catch(() => {});
      reconnectLater(error as Error);
    }
  };

  void open();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => {});
    },
  };
}
