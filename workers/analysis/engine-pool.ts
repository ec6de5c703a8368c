/**
 * The engine runs in a pool of worker threads, each with a heap budget, and each task with a time budget: a
 * hostile transcript exhausts its own thread (which is replaced), never the worker process or other jobs.
 */
import { Piscina } from 'piscina';
import type { EngineOutcome, EngineTask } from './engine-thread.ts';

export interface EnginePoolOptions {
  threads: number;
  timeoutMs: number;
  memoryMb: number;
  /** Largest transcript accepted, decompressed. */
  maxTranscriptBytes: number;
}

export interface EnginePool {
  /** Takes ownership of `bytes`: their buffer is transferred to the thread and unusable afterwards. */
  analyse(bytes: Uint8Array): Promise<EngineOutcome>;
  close(): Promise<void>;
}

const ENTRY = new URL('./engine-thread-entry.js', import.meta.url).href;

export function createEnginePool(options: EnginePoolOptions): EnginePool {
  const pool = new Piscina<EngineTask, EngineOutcome>({
    filename: ENTRY,
    minThreads: options.threads,
    maxThreads: options.threads,
    idleTimeout: 60_000,
    resourceLimits: { maxOldGenerationSizeMb: options.memoryMb },
  });
  return {
    async analyse(bytes) {
      const transferable = ownBuffer(bytes);
      try {
        return await pool.run({ bytes: transferable, maxBytes: options.maxTranscriptBytes }, { signal: AbortSignal.timeout(options.timeoutMs), transferList: [transferable.buffer as ArrayBuffer] });
      } catch (error) {
        return budgetOutcome(error, options);
      }
    },
    close: () => pool.destroy(),
  };
}

/** Small Buffers share a pooled ArrayBuffer; only a view that owns its whole buffer can be transferred. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes;
  return new Uint8Array(bytes);
}

function budgetOutcome(error: unknown, options: EnginePoolOptions): EngineOutcome {
  const { name, code, message } = error as { name?: string; code?: string; message?: string };
  if (name === 'AbortError' || name === 'TimeoutError') {
    return { ok: false, code: 'analysis-timeout', message: `the analysis took longer than its budget of ${options.timeoutMs} ms` };
  }
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return { ok: false, code: 'analysis-out-of-memory', message: `the analysis needed more than its budget of ${options.memoryMb} MiB` };
  }
  return { ok: false, code: 'analysis-crashed', message: `the engine failed on this transcript: ${message ?? String(error)}` };
}
