import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, describeConfiguration, loadConfig } from '../../services/config/load-config.ts';
import { REPO_ROOT } from '../support/shared-corpus.ts';
import { execFileSync } from 'node:child_process';

describe('configuration', () => {
  it('runs on local defaults with nothing set: embedded object store, local PostgreSQL and Redis', () => {
    const config = loadConfig({});
    expect(config.objectStore.embedded).toEqual({ directory: '.data/s3', port: 4569 });
    expect(config.databaseUrl).toBe('postgresql://postgres@127.0.0.1:5432/hangsleuth');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.maxUploadBytes).toBe(512 * 1024 * 1024);
  });

  it('uses a configured endpoint instead of the embedded store', () => {
    const config = loadConfig({ S3_ENDPOINT: 'http://minio:9000', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret', S3_FORCE_PATH_STYLE: 'false' });
    expect(config.objectStore).toMatchObject({ endpoint: 'http://minio:9000', embedded: null, accessKeyId: 'id', forcePathStyle: false });
    expect(loadConfig({ S3_REGION: 'eu-west-1' }).objectStore).toMatchObject({ endpoint: undefined, region: 'eu-west-1', embedded: null, accessKeyId: undefined });
  });

  it('lists every bad value at once', () => {
    let error: unknown;
    try {
      loadConfig({ HANGSLEUTH_PORT: 'eighty', DATABASE_URL: 'not a url', MAX_UPLOAD_MB: '0', S3_FORCE_PATH_STYLE: 'maybe' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['HANGSLEUTH_PORT', 'DATABASE_URL', 'MAX_UPLOAD_MB', 'S3_FORCE_PATH_STYLE']) expect(problems).toContain(name);
  });

  it('describes every variable, and docs/CONFIGURATION.md holds that description', async () => {
    for (const [name, schema] of Object.entries(CONFIG_VARIABLES)) expect(schema.description, name).toMatch(/\w{4}/);
    const documentation = await readFile(join(REPO_ROOT, 'docs', 'CONFIGURATION.md'), 'utf8');
    expect(documentation, 'run npm run docs:config').toContain(describeConfiguration());
  });

  it('is the only code that reads process.env', () => {
    const hits = execFileSync('git', ['grep', '--untracked', '-l', '-E', 'process\\.env', '--', 'services', 'workers'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(hits).toEqual(['services/config/load-config.ts']);
  });
});
