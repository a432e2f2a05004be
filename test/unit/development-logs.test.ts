import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { createKeygate } from '../../src/keygate.js';
import { createLogger, logsForAPerson } from '../../src/logger.js';
import { memoryStoreLocations } from '../support/store-templates.js';

const capture = () => {
  const sink = { text: '' };
  const stream = new Writable({ write(chunk, _encoding, done) { sink.text += chunk.toString(); done(); } });
  return { sink, stream };
};

describe('logs for a person in development, JSON for a collector in production', () => {
  it('prints lines a person reads when pretty, one JSON object per line otherwise', () => {
    const pretty = capture();
    createLogger('info', pretty.stream, { pretty: true }).warn({ file: 'keys/x.key' }, 'something to read');
    assert.match(pretty.sink.text, /WARN.*something to read/);
    assert.throws(() => JSON.parse(pretty.sink.text.split('\n')[0]!), 'not JSON');
    assert.doesNotMatch(pretty.sink.text, /"hostname"|"pid"/);

    const json = capture();
    createLogger('info', json.stream).warn({ file: 'keys/x.key' }, 'something to collect');
    const record = JSON.parse(json.sink.text.trim());
    assert.deepEqual([record.level, record.msg, record.file], [40, 'something to collect', 'keys/x.key']);
  });

  it('never prints for a person in production', () => {
    assert.equal(logsForAPerson(true), false);
  });

  it('announces the development keys it generated in one block naming every variable and file', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'keygate-dev-keys-'));
    const { sink, stream } = capture();
    const keygate = await createKeygate({
      config: loadConfig({ KEYGATE_DATA_DIR: dataDir, KEYGATE_LOG_LEVEL: 'info' }),
      storeLocations: await memoryStoreLocations(),
      logger: createLogger('info', stream),
    });
    try {
      const about = sink.text.trim().split('\n').map((line) => JSON.parse(line)).filter((r) => /development key/.test(r.msg));
      assert.equal(about.length, 1, 'one record, not one per key');
      for (const variable of ['KEYGATE_MASTER_KEY_CONTROL', 'KEYGATE_INDEX_KEY_CONTROL', 'KEYGATE_MASTER_KEY_EU', 'KEYGATE_INDEX_KEY_EU', 'KEYGATE_MASTER_KEY_US', 'KEYGATE_INDEX_KEY_US']) {
        assert.match(about[0].msg, new RegExp(`${variable} +${dataDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/keys/`));
      }
    } finally {
      await keygate.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
