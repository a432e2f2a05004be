import { execSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

// The machine's own PostgreSQL and Redis, stopped and started the way the machine
// description gives, for the fault tests. Every call waits until the change took effect.

const pgVersion = () => readdirSync('/etc/postgresql')[0]!;
const sh = (command: string) => execSync(command, { stdio: 'pipe', timeout: 60_000 }).toString();

export function stopPostgres(): void {
  sh(`pg_ctlcluster --skip-systemctl-redirect ${pgVersion()} main stop -m fast`);
}

const answers = (command: string) => {
  try {
    sh(command);
    return true;
  } catch {
    return false;
  }
};

/** Starts PostgreSQL unless it already answers. */
export function startPostgres(): void {
  if (answers('pg_isready -q -h 127.0.0.1')) return;
  sh(`pg_ctlcluster --skip-systemctl-redirect ${pgVersion()} main start`);
  sh('for i in $(seq 1 100); do pg_isready -q -h 127.0.0.1 && exit 0; sleep 0.1; done; exit 1');
}

export function stopRedis(): void {
  try {
    sh('redis-cli -h 127.0.0.1 -p 6379 shutdown nosave');
  } catch {
    // The connection closes as the server exits; that is the expected answer.
  }
  sh('for i in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || exit 0; sleep 0.1; done; exit 1');
}

/** Starts Redis unless it already answers. */
export function startRedis(): void {
  if (answers('redis-cli -h 127.0.0.1 -p 6379 ping')) return;
  sh('redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log');
  sh('for i in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1');
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
