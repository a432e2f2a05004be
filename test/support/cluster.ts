import { randomBytes } from 'node:crypto';
import { createPostgresStores } from './postgres-stores.js';
import { startSmtpServer, type TestSmtpServer } from './smtp.js';

/**
 * The environment of a production-like deployment for tests: fresh PostgreSQL databases
 * per store on KEYGATE_TEST_DATABASE_URL, Redis on KEYGATE_TEST_REDIS_URL when set, an
 * SMTP server whose mail the test reads, and one set of keys shared by every node.
 */
export async function createDeployment(): Promise<{ env: Record<string, string>; mail: TestSmtpServer; drop: () => Promise<void> }> {
  const serverUrl = process.env.KEYGATE_TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('KEYGATE_TEST_DATABASE_URL must name a PostgreSQL server the tests may create databases on');
  const { locations, drop: dropStores } = await createPostgresStores(serverUrl);
  const mail = await startSmtpServer();
  const key = () => randomBytes(32).toString('base64');
  const url = (location: (typeof locations)[keyof typeof locations]) => (location.kind === 'postgres' ? location.url : '');
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    // One process per node keeps SIGKILL and port reuse simple; workers are measured by the benchmark.
    KEYGATE_WORKERS: '1',
    // The nodes stand for ones behind a load balancer that ends TLS at this address.
    KEYGATE_PUBLIC_URL: 'https://localhost:8080',
    KEYGATE_BEHIND_TLS_PROXY: 'true',
    KEYGATE_DATABASE_URL_CONTROL: url(locations.control),
    KEYGATE_DATABASE_URL_EU: url(locations.eu),
    KEYGATE_DATABASE_URL_US: url(locations.us),
    KEYGATE_MASTER_KEY_CONTROL: key(),
    KEYGATE_MASTER_KEY_EU: key(),
    KEYGATE_MASTER_KEY_US: key(),
    KEYGATE_INDEX_KEY_EU: key(),
    KEYGATE_INDEX_KEY_US: key(),
    KEYGATE_INDEX_KEY_CONTROL: key(),
    KEYGATE_DATA_DIR: `/tmp/keygate-unused-${randomBytes(4).toString('hex')}`,
    KEYGATE_SMTP_URL: mail.url,
  };
  if (process.env.KEYGATE_TEST_REDIS_URL) {
    env.KEYGATE_REDIS_URL = process.env.KEYGATE_TEST_REDIS_URL;
    env.KEYGATE_REDIS_PREFIX = `kgtest:${randomBytes(6).toString('hex')}`;
  }
  const drop = async () => {
    await dropStores();
    await mail.close();
  };
  return { env, mail, drop };
}
