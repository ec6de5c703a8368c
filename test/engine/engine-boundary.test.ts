import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/shared-corpus.ts';

/** `npm run lint:deps` guards the engine's purity on the real tree; this proves the rules do catch a breach. */
describe('the engine boundary rules (.dependency-cruiser.cjs)', () => {
  const fixture = mkdtempSync(join(tmpdir(), 'hangsleuth-boundary-'));
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));

  function cruise(files: Record<string, string>): { ok: boolean; output: string } {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(fixture, path, '..'), { recursive: true });
      writeFileSync(join(fixture, path), content);
    }
    writeFileSync(join(fixture, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true, noEmit: true, module: 'NodeNext' } }));
    try {
      const output = execFileSync(join(REPO_ROOT, 'node_modules/.bin/depcruise'), ['--config', join(REPO_ROOT, '.dependency-cruiser.cjs'), 'services'], {
        cwd: fixture,
        encoding: 'utf8',
        stdio: 'pipe',
      });
      return { ok: true, output };
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string };
      return { ok: false, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
    }
  }

  it('fails when an engine module imports node:fs', () => {
    const result = cruise({ 'services/engine/reader.ts': "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n" });
    expect(result.ok).toBe(false);
    expect(result.output).toContain('engine-does-no-io');
  });

  it('fails when an engine module imports a service outside the engine', () => {
    const result = cruise({
      'services/engine/reader.ts': "export { store } from '../api/store.ts';\n",
      'services/api/store.ts': 'export const store = 1;\n',
    });
    expect(result.ok).toBe(false);
    expect(result.output).toContain('engine-is-a-leaf');
  });

  it('fails on an import cycle', () => {
    const result = cruise({
      'services/engine/reader.ts': "export { b } from './cycle-b.ts';\n",
      'services/engine/cycle-a.ts': "import { b } from './cycle-b.ts';\nexport const a = () => b;\n",
      'services/engine/cycle-b.ts': "import { a } from './cycle-a.ts';\nexport const b = () => a;\n",
    });
    expect(result.ok).toBe(false);
    expect(result.output).toContain('no-circular');
  });
});
