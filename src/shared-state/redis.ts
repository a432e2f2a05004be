import { Redis } from 'ioredis';

export class RedisStartError extends Error {
  override name = 'RedisStartError';
}

/**
 * Connects to Redis and proves it answers, or fails the start naming the setting.
 * Afterwards commands fail at once while Redis is away (no offline queue), so callers
 * can fall back instead of waiting; the client keeps reconnecting in the background.
 */
export async function connectRedis(url: string, onError: (error: Error) => void): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  redis.on('error', onError);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const where = (() => {
      try {
        const parsed = new URL(url);
        return `${parsed.hostname}:${parsed.port || 6379}`;
      } catch {
        return 'the configured address';
      }
    })();
    throw new RedisStartError(`KEYGATE_REDIS_URL: Redis at ${where} does not answer (${(error as Error).message})`);
  }
  return redis;
}
