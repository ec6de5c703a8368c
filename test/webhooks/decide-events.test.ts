import { describe, expect, it } from 'vitest';
import { decideSpread, endpointWants } from '../../services/webhooks/decide-events.ts';
import { retryDelay } from '../../workers/webhooks/retry-delay.ts';

const HOUR = 3_600_000;

/** Feeds a sequence of server counts through decideSpread, carrying its state, and says when it fired. */
function run(counts: number[], { threshold = 3, throttleMs = 0, stepMs = 60_000 } = {}): number[] {
  let armed = true;
  let lastFiredAt: Date | null = null;
  const fired: number[] = [];
  counts.forEach((servers, index) => {
    const now = new Date(Date.UTC(2026, 10, 25) + index * stepMs);
    const decision = decideSpread({ serversInWindow: servers, threshold, armed, lastFiredAt, throttleMs, now });
    armed = decision.armed;
    if (decision.fire) {
      fired.push(index);
      lastFiredAt = now;
    }
  });
  return fired;
}

describe('cluster.spreading', () => {
  it('fires exactly once at the threshold crossing, not below it and not again above it', () => {
    expect(run([1, 2, 3, 4, 5, 6])).toEqual([2]);
    expect(run([1, 2])).toEqual([]);
  });

  it('re-arms when the servers in the window fall below the threshold, and fires at the next crossing', () => {
    expect(run([3, 4, 2, 1, 3, 5, 2, 3])).toEqual([0, 4, 7]);
  });

  it('waits out the throttle after a firing even when the threshold is crossed again', () => {
    // One report a minute: crossings at 0, 4 and 8 minutes, with a 6-minute throttle: 4 is too soon, 8 fires.
    expect(run([3, 1, 1, 1, 3, 1, 1, 1, 3], { throttleMs: 6 * 60_000 })).toEqual([0, 8]);
    // Still above the threshold when the throttle ends: it fires then, once.
    expect(run([3, 1, 3, 3, 3, 3, 3], { throttleMs: 3 * 60_000 })).toEqual([0, 3]);
  });
});

describe('endpoint filters', () => {
  const endpoint = { events: ['cluster.created', 'cluster.resolved'], patternFilter: 'deadlock', moduleFilter: 'FabrikamDSM', minServers: 2 };
  it('matches event type, pattern, module (any case) and minimum servers', () => {
    expect(endpointWants(endpoint, 'cluster.created', { pattern: 'deadlock', blamedModule: 'fabrikamdsm', serverCount: 2 })).toBe(true);
    expect(endpointWants(endpoint, 'cluster.created', { pattern: 'deadlock', blamedModule: 'FabrikamDSM', serverCount: 1 })).toBe(false);
    expect(endpointWants(endpoint, 'cluster.created', { pattern: 'pending-irp', blamedModule: 'FabrikamDSM', serverCount: 9 })).toBe(false);
    expect(endpointWants(endpoint, 'cluster.spreading', { pattern: 'deadlock', blamedModule: 'FabrikamDSM', serverCount: 9 })).toBe(false);
    // A resolution reaches an endpoint whatever the cluster's size.
    expect(endpointWants(endpoint, 'cluster.resolved', { pattern: 'deadlock', blamedModule: 'FabrikamDSM', serverCount: 1 })).toBe(true);
  });
});

describe('retry schedule', () => {
  const schedule = [5000, 300_000, 1_800_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
  it('follows the Standard Webhooks schedule with ±10 % jitter, and stays on its last step', () => {
    expect(retryDelay(schedule, 1, null, () => 0.5)).toBe(5000);
    expect(retryDelay(schedule, 2, null, () => 0)).toBe(270_000);
    expect(retryDelay(schedule, 3, null, () => 1)).toBe(1_980_000);
    expect(retryDelay(schedule, 12, null, () => 0.5)).toBe(10 * HOUR);
  });

  it("honours the receiver's Retry-After, up to a day", () => {
    expect(retryDelay(schedule, 1, 120_000)).toBe(120_000);
    expect(retryDelay(schedule, 1, 7 * 24 * HOUR)).toBe(24 * HOUR);
  });
});
