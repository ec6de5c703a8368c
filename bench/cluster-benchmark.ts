import { createHash } from 'node:crypto';
import { ClusterIndex, type ClusterSignature } from '../services/engine/index.ts';
import { mulberry32 } from './generate-transcript.ts';

export interface ClusterBenchmark {
  findings: number;
  rootCauses: number;
  clusters: number;
  assignMs: number;
  assignHeapMb: number;
  mapMs: number;
  mapHeapMb: number;
  mapEntries: number;
}

const PATTERNS = ['worker-queue-starvation', 'pending-irp', 'lock-contention', 'deadlock', 'third-party-long-wait', 'alpc-wait-chain'];

/** Root cause `cause`, printed as one of a few near-duplicate signatures (frames differing below the root). */
function signatureFor(cause: number, variant: number): ClusterSignature {
  const pattern = PATTERNS[cause % PATTERNS.length]!;
  const module = `Vendor${cause}`;
  const frames = [`${module}!Root${cause}`, `${module}!Caller${cause}`, `nt!Below${variant}`];
  const text = `${pattern} | ${module} | ${frames[0]}${variant === 0 ? '' : ` #${variant}`}`;
  return { hash: createHash('sha256').update(text).digest('hex').slice(0, 16), text, pattern, module, frameSet: frames.sort() };
}

/** Assigns `findings` findings over `rootCauses` root causes, beside a plain Map insert of the same hashes. */
export function benchmarkClustering(findings: number, rootCauses: number, seed: number, gc: () => void): ClusterBenchmark {
  const random = mulberry32(seed);
  const variants = 3;
  const catalogue: ClusterSignature[] = [];
  for (let cause = 0; cause < rootCauses; cause++) for (let variant = 0; variant < variants; variant++) catalogue.push(signatureFor(cause, variant));
  const stream = new Uint32Array(findings);
  for (let i = 0; i < findings; i++) stream[i] = random() % catalogue.length;

  gc();
  let heap = process.memoryUsage().heapUsed;
  let start = performance.now();
  const index = new ClusterIndex();
  for (let i = 0; i < findings; i++) index.assign(catalogue[stream[i]!]!);
  const assignMs = performance.now() - start;
  gc();
  const assignHeapMb = (process.memoryUsage().heapUsed - heap) / 1024 / 1024;

  gc();
  heap = process.memoryUsage().heapUsed;
  start = performance.now();
  const map = new Map<string, number>();
  for (let i = 0; i < findings; i++) {
    const hash = catalogue[stream[i]!]!.hash;
    map.set(hash, (map.get(hash) ?? 0) + 1);
  }
  const mapMs = performance.now() - start;
  gc();
  const mapHeapMb = (process.memoryUsage().heapUsed - heap) / 1024 / 1024;
  // Both structures are still referenced here, so the heap measured is what they keep.
  return { findings, rootCauses, clusters: index.all().length, assignMs, assignHeapMb, mapMs, mapHeapMb, mapEntries: map.size };
}
