/**
 * The bodies sent to Slack and PagerDuty, validated against JSON Schemas written from their documentation
 * (test/webhooks/schemas/), and the generic body's documented shape.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_EVENT_TYPES, type ClusterEvent, type ClusterEventType } from '../../services/webhooks/cluster-event.ts';
import { WEBHOOK_SCHEMA, buildGenericPayload } from '../../services/webhooks/generic-payload.ts';
import { DEFAULT_SEVERITY_THRESHOLDS, buildPagerDutyEvent, severityForSpread, type PagerDutyTriggerEvent } from '../../services/webhooks/pagerduty-payload.ts';
import { SLACK_LIMITS, buildSlackMessage, type SlackSectionBlock } from '../../services/webhooks/slack-payload.ts';

const ROUTING_KEY = 'e93facc04764012d7bfb002500d5d1a6';

function eventOf(type: ClusterEventType, overrides: { cluster?: Partial<ClusterEvent['cluster']> } & Partial<Omit<ClusterEvent, 'cluster'>> = {}): ClusterEvent {
  const { cluster, ...rest } = overrides;
  return {
    id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
    type,
    occurredAt: new Date('2026-11-25T10:00:00.000Z'),
    cluster: {
      id: '5b1c8e7a-2f4d-4c1e-9a3b-0d6e2f1a7c90',
      pattern: 'lock-contention',
      blamedModule: 'rdbss.sys',
      signatureText: 'lock-contention | rdbss!RxAcquireExclusiveFcbResource | rdbss!RxCommonCreate | mrxsmb!MRxSmbCreate',
      state: 'open',
      serverCount: 3,
      reportCount: 7,
      firstSeenAt: new Date('2026-11-20T08:00:00.000Z'),
      lastSeenAt: new Date('2026-11-25T09:59:00.000Z'),
      ...cluster,
    },
    trigger: { reportId: 'r-123', server: 'SRV-FILE-07', summary: '12 threads wait on an ERESOURCE owned by a thread stuck in rdbss' },
    links: { cluster: 'https://hangsleuth.example.com/v1/clusters/5b1c8e7a-2f4d-4c1e-9a3b-0d6e2f1a7c90', report: 'https://hangsleuth.example.com/v1/reports/r-123' },
    ...(type === 'cluster.spreading' ? { spread: { servers: 5, threshold: 5, windowMs: 86_400_000 } } : {}),
    ...rest,
  };
}

let validateSlack: ValidateFunction;
let validatePagerDuty: ValidateFunction;

beforeAll(() => {
  const ajv = new Ajv({ allErrors: true });
  addFormats.default(ajv);
  const load = (name: string) => JSON.parse(readFileSync(new URL(`./schemas/${name}`, import.meta.url), 'utf8')) as object;
  validateSlack = ajv.compile(load('slack-incoming-webhook.schema.json'));
  validatePagerDuty = ajv.compile(load('pagerduty-events-v2.schema.json'));
});

function expectValid(validate: ValidateFunction, body: unknown) {
  // Through JSON, as the receiver gets it.
  const sent: unknown = JSON.parse(JSON.stringify(body));
  const valid = validate(sent);
  expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
  expect(valid).toBe(true);
}

const longSignature = () => Array.from({ length: 400 }, (_, index) => `nt!Frame<${index}>&Co`).join(' | ') + ' 😀 end';

describe('Slack message', () => {
  it.each(CLUSTER_EVENT_TYPES)('is a valid incoming-webhook message for %s', (type) => {
    const message = buildSlackMessage(eventOf(type));
    expectValid(validateSlack, message);
    expect(message.blocks[0]).toMatchObject({ type: 'header' });
    expect(message.text.length).toBeGreaterThan(0);
  });

  it('says what, where, how many and the state, with a button to the cluster', () => {
    const message = buildSlackMessage(eventOf('cluster.spreading'));
    const overview = message.blocks[1] as SlackSectionBlock;
    const fields = overview.fields?.map((field) => field.text).join('\n') ?? '';
    expect(fields).toContain('lock-contention');
    expect(fields).toContain('`rdbss.sys`');
    expect(fields).toContain('`SRV-FILE-07`');
    expect(fields).toContain('*Servers*\n3 (5 within 1 d, threshold 5)');
    expect(fields).toContain('*State*\nopen');
    expect(JSON.stringify(message.blocks)).toContain('rdbss!RxAcquireExclusiveFcbResource');
    expect(message.blocks.at(-1)).toMatchObject({ type: 'actions', elements: [{ type: 'button', url: eventOf('cluster.created').links.cluster, style: 'primary' }, { url: 'https://hangsleuth.example.com/v1/reports/r-123' }] });
  });

  it('cuts a long signature, summary and names to the limits and stays valid', () => {
    const event = eventOf('cluster.created', {
      cluster: { signatureText: longSignature(), pattern: 'p'.repeat(300), blamedModule: `${'m'.repeat(2500)}.sys` },
      trigger: { reportId: 'r-1', server: 'S'.repeat(2500), summary: '<!channel> & '.repeat(600) },
    });
    expect(event.cluster.signatureText.length).toBeGreaterThan(SLACK_LIMITS.sectionText);
    const message = buildSlackMessage(event);
    expectValid(validateSlack, message);

    const header = message.blocks[0] as { text: { text: string } };
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    expect(header.text.text.endsWith('…')).toBe(true);
    const signature = message.blocks.find((block) => block.type === 'section' && block.text?.text.startsWith('*Signature*')) as SlackSectionBlock;
    const text = signature.text?.text ?? '';
    expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(text.endsWith('…\n```')).toBe(true);
    // Escaped, and not cut inside an entity.
    expect(text).toContain('nt!Frame&lt;0&gt;&amp;Co');
    expect(text).not.toMatch(/&[a-z]{0,3}…/);
    const overview = message.blocks[1] as SlackSectionBlock;
    expect(overview.text?.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(overview.text?.text).not.toContain('<!channel>');
    for (const field of overview.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  });

  it('never splits a surrogate pair when it cuts', () => {
    const message = buildSlackMessage(eventOf('cluster.created', { cluster: { pattern: '😀'.repeat(200) } }));
    const header = (message.blocks[0] as { text: { text: string } }).text.text;
    expect(header.length).toBeLessThanOrEqual(150);
    expect(() => encodeURIComponent(header)).not.toThrow();
  });

  it('the schema itself rejects what Slack rejects', () => {
    const message = buildSlackMessage(eventOf('cluster.created'));
    const tooLongHeader = { ...message, blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] };
    const tooManyFields = { ...message, blocks: [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'x' })) }] };
    const tooManyBlocks = { ...message, blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) };
    const markdownHeader = { ...message, blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }] };
    for (const bad of [tooLongHeader, tooManyFields, tooManyBlocks, markdownHeader]) expect(validateSlack(bad)).toBe(false);
  });
});

describe('PagerDuty event', () => {
  it.each(['cluster.created', 'cluster.spreading', 'cluster.regressed'] as const)('triggers an alert for %s', (type) => {
    const event = buildPagerDutyEvent(eventOf(type), { routingKey: ROUTING_KEY }) as PagerDutyTriggerEvent;
    expectValid(validatePagerDuty, event);
    expect(event).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: '5b1c8e7a-2f4d-4c1e-9a3b-0d6e2f1a7c90',
      payload: { source: 'SRV-FILE-07', severity: 'warning', timestamp: '2026-11-25T10:00:00.000Z', component: 'rdbss.sys', group: 'lock-contention', class: 'hang' },
      client: 'HangSleuth',
      client_url: eventOf(type).links.cluster,
    });
    expect(event.links[0]).toEqual({ href: eventOf(type).links.cluster, text: 'Cluster in HangSleuth' });
    expect(event.payload.custom_details).toMatchObject({ cluster_id: '5b1c8e7a-2f4d-4c1e-9a3b-0d6e2f1a7c90', servers: 3, reports: 7, report_id: 'r-123' });
  });

  it('resolves with the same dedup key the trigger used', () => {
    const trigger = buildPagerDutyEvent(eventOf('cluster.created'), { routingKey: ROUTING_KEY });
    const resolve = buildPagerDutyEvent(eventOf('cluster.resolved', { cluster: { state: 'resolved' } }), { routingKey: ROUTING_KEY });
    expectValid(validatePagerDuty, resolve);
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: trigger?.dedup_key });
  });

  it('is not sent for report.analysed', () => {
    expect(buildPagerDutyEvent(eventOf('report.analysed'), { routingKey: ROUTING_KEY })).toBeNull();
  });

  it('cuts a long summary to 1024 characters and leaves out an unknown component', () => {
    const event = buildPagerDutyEvent(
      eventOf('cluster.created', { cluster: { blamedModule: null, signatureText: longSignature().repeat(20) }, trigger: { reportId: 'r', server: 'SRV-1', summary: 'x'.repeat(5000) } }),
      { routingKey: ROUTING_KEY },
    ) as PagerDutyTriggerEvent;
    expectValid(validatePagerDuty, event);
    expect(event.payload.summary.length).toBe(1024);
    expect(event.payload).not.toHaveProperty('component');
    expect(JSON.stringify(event).length).toBeLessThan(64 * 1024);
  });

  it('names the fleet as the source when no report triggered the event', () => {
    const event = buildPagerDutyEvent(eventOf('cluster.regressed', { trigger: undefined }), { routingKey: ROUTING_KEY }) as PagerDutyTriggerEvent;
    expectValid(validatePagerDuty, event);
    expect(event.payload.source).toBe('3 servers');
  });

  it('chooses the severity by how many servers the cluster is on', () => {
    expect(DEFAULT_SEVERITY_THRESHOLDS).toEqual({ critical: 20, error: 5, warning: 2 });
    const table: [number, string][] = [
      [1, 'info'],
      [2, 'warning'],
      [4, 'warning'],
      [5, 'error'],
      [19, 'error'],
      [20, 'critical'],
      [500, 'critical'],
    ];
    for (const [servers, severity] of table) expect(severityForSpread(servers), String(servers)).toBe(severity);
    const custom = { critical: 3, error: 2, warning: 1 };
    expect(severityForSpread(1, custom)).toBe('warning');
    const event = buildPagerDutyEvent(eventOf('cluster.spreading', { cluster: { serverCount: 25 } }), { routingKey: ROUTING_KEY }) as PagerDutyTriggerEvent;
    expect(event.payload.severity).toBe('critical');
  });

  it('the schema itself rejects what PagerDuty rejects', () => {
    const good = buildPagerDutyEvent(eventOf('cluster.created'), { routingKey: ROUTING_KEY }) as PagerDutyTriggerEvent;
    const bad: unknown[] = [
      { ...good, routing_key: 'short' },
      { ...good, payload: { ...good.payload, summary: 's'.repeat(1025) } },
      { ...good, payload: { ...good.payload, severity: 'fatal' } },
      { ...good, dedup_key: 'd'.repeat(256) },
      { routing_key: ROUTING_KEY, event_action: 'resolve' },
      { routing_key: ROUTING_KEY, event_action: 'trigger' },
    ];
    for (const body of bad) expect(validatePagerDuty(body), JSON.stringify(body).slice(0, 80)).toBe(false);
  });
});

describe('generic body', () => {
  it('is { type, schema, timestamp, data } with every documented field', () => {
    const body = buildGenericPayload(eventOf('cluster.spreading'));
    expect(JSON.parse(JSON.stringify(body))).toEqual({
      type: 'cluster.spreading',
      schema: WEBHOOK_SCHEMA,
      timestamp: '2026-11-25T10:00:00.000Z',
      data: {
        cluster: {
          id: '5b1c8e7a-2f4d-4c1e-9a3b-0d6e2f1a7c90',
          pattern: 'lock-contention',
          blamedModule: 'rdbss.sys',
          signatureText: 'lock-contention | rdbss!RxAcquireExclusiveFcbResource | rdbss!RxCommonCreate | mrxsmb!MRxSmbCreate',
          state: 'open',
          serverCount: 3,
          reportCount: 7,
          firstSeenAt: '2026-11-20T08:00:00.000Z',
          lastSeenAt: '2026-11-25T09:59:00.000Z',
        },
        trigger: { reportId: 'r-123', server: 'SRV-FILE-07', summary: '12 threads wait on an ERESOURCE owned by a thread stuck in rdbss' },
        spread: { servers: 5, threshold: 5, windowMs: 86_400_000 },
        links: { cluster: 'https://hangsleuth.example.com/v1/clusters/5b1c8e7a-2f4d-4c1e-9a3b-0d6e2f1a7c90', report: 'https://hangsleuth.example.com/v1/reports/r-123', dashboard: null },
      },
    });
    expect(WEBHOOK_SCHEMA).toBe('hangsleuth.webhook/1');
  });

  it('keeps absent parts as null rather than leaving the keys out', () => {
    const body = buildGenericPayload(eventOf('cluster.resolved', { trigger: undefined, links: { cluster: 'https://h.example.com/c' } }));
    expect(body.data).toMatchObject({ trigger: null, spread: null, links: { cluster: 'https://h.example.com/c', report: null, dashboard: null } });
  });
});
