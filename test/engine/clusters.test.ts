import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { analyzeTranscript, ClusterIndex, DEFAULT_SIGNATURE_RULES, signFinding, type ClusterSignature, type SignatureRuleSet } from '../../services/engine/index.ts';
import { rerandomise } from '../support/rerandomise.ts';
import { EXAMPLE_FILE, SEED_FILE, corpusFiles, sharedAvailable } from '../support/shared-corpus.ts';

const signatureOf = (input: Uint8Array | string): ClusterSignature | null => {
  const [finding] = analyzeTranscript(input).verdict.findings;
  return finding ? signFinding(finding) : null;
};

function synthetic(pattern: string, module: string, frames: string[]): ClusterSignature {
  const text = `${pattern} | ${module} | ${frames.join(' > ')}`;
  return { hash: createHash('sha256').update(text).digest('hex').slice(0, 16), text, pattern, module, frameSet: [...frames].sort() };
}

/** The same signatures fed in 20 random orders must give the same clusters as in the given order. */
function expectOrderIndependent(signatures: ClusterSignature[]): void {
  const reference = new ClusterIndex();
  for (const signature of signatures) reference.assign(signature);
  fc.assert(
    fc.property(fc.shuffledSubarray(signatures, { minLength: signatures.length, maxLength: signatures.length }), (order) => {
      const index = new ClusterIndex();
      for (const signature of order) index.assign(signature);
      expect(partition(index)).toEqual(partition(reference));
    }),
    { numRuns: 20 },
  );
}

/** The clusters as sets of signature hashes, in a canonical order: what must not depend on arrival order. */
function partition(index: ClusterIndex): string[][] {
  return index
    .all()
    .map((cluster) => cluster.signatures.map((signature) => signature.hash).sort())
    .sort((a, b) => a[0]!.localeCompare(b[0]!));
}

describe('fleet clusters', () => {
  it('an exact signature joins its cluster; another module starts another', () => {
    const index = new ClusterIndex();
    const first = index.assign(synthetic('worker-queue-starvation', 'MyBadDSM', ['mpio!MPIOPathVerify']));
    const again = index.assign(synthetic('worker-queue-starvation', 'MyBadDSM', ['mpio!MPIOPathVerify']));
    const other = index.assign(synthetic('worker-queue-starvation', 'FabrikamDSM', ['mpio!MPIOPathVerify']));
    expect(first).toMatchObject({ created: true, rule: 'new' });
    expect(again).toMatchObject({ clusterId: first.clusterId, created: false, rule: 'exact' });
    expect(other.clusterId).not.toBe(first.clusterId);
  });

  it('merges near-duplicates (same pattern and module, frames differing below the root) and says how similar', () => {
    const index = new ClusterIndex();
    const a = index.assign(synthetic('third-party-long-wait', 'AcmeAV', ['AcmeAV!ScanFile', 'fltmgr!FltpCreate', 'nt!IopParseDevice']));
    const b = index.assign(synthetic('third-party-long-wait', 'AcmeAV', ['AcmeAV!ScanFile', 'fltmgr!FltpCreate', 'nt!NtCreateFile']));
    expect(b).toMatchObject({ clusterId: a.clusterId, rule: 'near-duplicate', nearest: { similarity: 0.5 } });
    expect(b.explanation).toMatch(/^near-duplicate: same third-party-long-wait\|AcmeAV, root frames 0\.50 similar/);
    const far = index.assign(synthetic('third-party-long-wait', 'AcmeAV', ['AcmeAV!Unload', 'nt!IopUnloadDriver']));
    expect(far).toMatchObject({ created: true, rule: 'new' });
  });

  it('a signature that links two clusters merges them: the older id stays, the younger becomes its alias', () => {
    const index = new ClusterIndex();
    const older = index.assign(synthetic('lock-contention', 'Contoso', ['Contoso!A', 'Contoso!B']));
    const younger = index.assign(synthetic('lock-contention', 'Contoso', ['Contoso!C', 'Contoso!D']));
    const bridge = index.assign(synthetic('lock-contention', 'Contoso', ['Contoso!A', 'Contoso!B', 'Contoso!C', 'Contoso!D']));
    expect(bridge).toMatchObject({ clusterId: older.clusterId, merged: [younger.clusterId] });
    expect(index.resolve(younger.clusterId)!.id).toBe(older.clusterId);
    expect(index.resolve(older.clusterId)!.aliases).toEqual([younger.clusterId]);
    expect(index.all()).toHaveLength(1);
  });

  it('the same signatures in 20 random orders give the same clusters', () => {
    const signatures = [
      synthetic('lock-contention', 'Contoso', ['Contoso!A', 'Contoso!B']),
      synthetic('lock-contention', 'Contoso', ['Contoso!C', 'Contoso!D']),
      synthetic('lock-contention', 'Contoso', ['Contoso!A', 'Contoso!B', 'Contoso!C', 'Contoso!D']),
      synthetic('lock-contention', 'Contoso', ['Contoso!X', 'Contoso!Y']),
      synthetic('lock-contention', 'Fabrikam', ['Contoso!A', 'Contoso!B']),
      synthetic('deadlock', 'TestDriver', ['TestDriver!FileDeletionThread', 'TestDriver!FileMoveThread']),
      synthetic('pending-irp', 'usbehci', ['\\driver\\usbehci']),
    ];
    expectOrderIndependent(signatures);
  });

  it('after a change of signature rules, every old finding keeps its cluster', () => {
    const index = new ClusterIndex();
    const old = [
      synthetic('worker-queue-starvation', 'MyBadDSM', ['mpio!MPIOPathVerify']),
      synthetic('worker-queue-starvation', 'FabrikamDSM', ['mpio!MPIOPathVerify']),
      synthetic('deadlock', 'TestDriver', ['TestDriver!FileDeletionThread', 'TestDriver!FileMoveThread']),
    ];
    const clusters = old.map((signature) => index.assign(signature).clusterId);
    // The new rules skip `mpio!` frames: every text changes.
    const resigned = old.map((signature) => synthetic(signature.pattern, signature.module!, signature.frameSet.filter((frame) => !frame.startsWith('mpio!'))));
    resigned.forEach((signature, position) => expect(index.resign(old[position]!.hash, signature).clusterId).toBe(clusters[position]));
    resigned.forEach((signature, position) => expect(index.clusterOf(signature.hash)!.id).toBe(clusters[position]));
    expect(index.all()).toHaveLength(3);
  });
});

describe.skipIf(!sharedAvailable)('fleet clusters over the seed case and the corpus', () => {
  it('a change of the skip list re-signs every finding, and each keeps its cluster', () => {
    const findings = [SEED_FILE, EXAMPLE_FILE, ...corpusFiles()]
      .map((file) => analyzeTranscript(readFileSync(file)).verdict.findings[0])
      .filter((finding) => finding !== undefined);
    const index = new ClusterIndex();
    const before = findings.map((finding) => ({ finding, signature: signFinding(finding!), cluster: '' }));
    for (const entry of before) entry.cluster = index.assign(entry.signature).clusterId;
    const upgraded: SignatureRuleSet = { ...DEFAULT_SIGNATURE_RULES, version: 'sig-2-test', skip: [...DEFAULT_SIGNATURE_RULES.skip, /^mpio!/i, /^Contoso\./] };
    let changed = 0;
    for (const entry of before) {
      const next = signFinding(entry.finding!, upgraded);
      if (next.hash !== entry.signature.hash) changed++;
      expect(next.rulesVersion).toBe('sig-2-test');
      const resigned = index.resign(entry.signature.hash, next);
      expect(resigned.clusterId).toBe(entry.cluster);
      expect(resigned.explanation).toContain(`replaces ${entry.signature.hash}`);
    }
    expect(changed).toBeGreaterThanOrEqual(3);
    expect(index.all()).toHaveLength(before.length);
  });

  it('the corpus findings, fed in 20 random orders, give the same clusters', () => {
    const signatures = [SEED_FILE, EXAMPLE_FILE, ...corpusFiles()]
      .flatMap((file) => [0, 1].map((server) => signatureOf(rerandomise(readFileSync(file, 'utf8'), 9000 + server))))
      .filter((signature): signature is ClusterSignature => signature !== null);
    expectOrderIndependent(signatures);
  });

  it('copies from many servers of each case form one cluster per case; different cases never share one', () => {
    const cases = [SEED_FILE, EXAMPLE_FILE, ...corpusFiles()]
      .map((file) => ({ file, text: readFileSync(file, 'utf8') }))
      .filter((entry) => signatureOf(entry.text) !== null);
    const index = new ClusterIndex();
    const clusterOfCase = new Map<string, Set<string>>();
    for (let server = 0; server < 5; server++) {
      for (const { file, text } of cases) {
        const assignment = index.assign(signatureOf(rerandomise(text, 7000 + server))!);
        const set = clusterOfCase.get(file) ?? new Set();
        set.add(index.resolve(assignment.clusterId)!.id);
        clusterOfCase.set(file, set);
      }
    }
    for (const [file, clusters] of clusterOfCase) expect(clusters.size, file).toBe(1);
    const ids = [...clusterOfCase.values()].map((set) => [...set][0]);
    expect(new Set(ids).size).toBe(cases.length);
    expect(index.all()).toHaveLength(cases.length);
  });
});
