/**
 * A Slack incoming-webhook message (Block Kit) for a cluster event: header, what/where/how many, the signature,
 * and a button to the cluster. Every text is cut to Slack's documented limits, because Slack rejects the whole
 * message (400 invalid_blocks) when one field is too long.
 */
import type { ClusterEvent, ClusterEventType } from './cluster-event.ts';
import { TRUNCATION_MARK, truncateText } from './truncate-text.ts';

/** docs.slack.dev/reference/block-kit/blocks (header, section, context, actions) and the button element. */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  /** Slack truncates `text` past 40,000 characters and recommends at most 4,000. */
  fallbackText: 4000,
} as const;

export interface SlackPlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
export interface SlackMrkdwn {
  type: 'mrkdwn';
  text: string;
}
export type SlackText = SlackPlainText | SlackMrkdwn;

export interface SlackHeaderBlock {
  type: 'header';
  text: SlackPlainText;
}
export interface SlackSectionBlock {
  type: 'section';
  text?: SlackText;
  fields?: SlackText[];
}
export interface SlackContextBlock {
  type: 'context';
  elements: SlackText[];
}
export interface SlackButton {
  type: 'button';
  text: SlackPlainText;
  url: string;
  action_id: string;
  style?: 'primary' | 'danger';
}
export interface SlackActionsBlock {
  type: 'actions';
  elements: SlackButton[];
}
export type SlackBlock = SlackHeaderBlock | SlackSectionBlock | SlackContextBlock | SlackActionsBlock;

export interface SlackMessage {
  /** Shown in notifications and by clients that cannot render blocks. */
  text: string;
  blocks: SlackBlock[];
}

export function buildSlackMessage(event: ClusterEvent): SlackMessage {
  const title = titleOf(event);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncateText(title, SLACK_LIMITS.headerText), emoji: true } },
    overviewSection(event),
    signatureSection(event.cluster.signatureText),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: truncateMrkdwn(
            `Cluster \`${escapeMrkdwn(event.cluster.id)}\` · first seen ${slackDate(event.cluster.firstSeenAt)} · last seen ${slackDate(event.cluster.lastSeenAt)}`,
            SLACK_LIMITS.sectionText,
          ),
        },
      ],
    },
  ];
  const buttons = linkButtons(event);
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  const fallback = event.trigger ? `${title}: ${event.trigger.summary}` : title;
  return { text: truncateMrkdwn(escapeMrkdwn(fallback), SLACK_LIMITS.fallbackText), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

const HEADLINES: Record<ClusterEventType, string> = {
  'cluster.created': 'New hang',
  'cluster.spreading': 'Hang spreading',
  'cluster.regressed': 'Hang regressed',
  'cluster.resolved': 'Hang resolved',
  'report.analysed': 'Report analysed',
};

function titleOf(event: ClusterEvent): string {
  const { pattern, blamedModule, serverCount } = event.cluster;
  const what = blamedModule ? `${pattern} in ${blamedModule}` : pattern;
  const where = event.type === 'report.analysed' && event.trigger ? ` on ${event.trigger.server}` : ` (${serverCount} ${serverCount === 1 ? 'server' : 'servers'})`;
  return `${HEADLINES[event.type]}: ${what}${where}`;
}

function overviewSection(event: ClusterEvent): SlackSectionBlock {
  const { cluster, trigger, spread } = event;
  const serverLine = spread
    ? `${cluster.serverCount} (${spread.servers} within ${formatWindow(spread.windowMs)}, threshold ${spread.threshold})`
    : String(cluster.serverCount);
  const fields: [string, string][] = [
    ['Pattern', escapeMrkdwn(cluster.pattern)],
    ['Blamed module', cluster.blamedModule ? codeSpan(cluster.blamedModule) : '_none_'],
    ['Where', trigger ? codeSpan(trigger.server) : '_fleet-wide_'],
    ['Servers', serverLine],
    ['Reports', String(cluster.reportCount)],
    ['State', escapeMrkdwn(cluster.state)],
  ];
  return {
    type: 'section',
    ...(trigger ? { text: { type: 'mrkdwn', text: truncateMrkdwn(escapeMrkdwn(trigger.summary), SLACK_LIMITS.sectionText) } } : {}),
    fields: fields.slice(0, SLACK_LIMITS.sectionFields).map(([label, value]) => ({ type: 'mrkdwn', text: truncateMrkdwn(`*${label}*\n${value}`, SLACK_LIMITS.fieldText) })),
  };
}

function signatureSection(signatureText: string): SlackSectionBlock {
  const opening = '*Signature*\n```\n';
  const closing = '\n```';
  // A fence inside the signature would end the code block early.
  const body = escapeMrkdwn(signatureText.replaceAll('```', "'''"));
  return { type: 'section', text: { type: 'mrkdwn', text: opening + truncateMrkdwn(body, SLACK_LIMITS.sectionText - opening.length - closing.length) + closing } };
}

function linkButtons(event: ClusterEvent): SlackButton[] {
  const candidates: [string, string, string | undefined][] = [
    ['open-cluster', 'Open cluster', event.links.cluster],
    ['open-report', 'Open report', event.links.report],
    ['open-dashboard', 'Dashboard', event.links.dashboard],
  ];
  const buttons: SlackButton[] = [];
  for (const [actionId, label, url] of candidates) {
    // A cut URL would lead somewhere else: leave the button out instead.
    if (!url || url.length > SLACK_LIMITS.buttonUrl) continue;
    const button: SlackButton = { type: 'button', text: { type: 'plain_text', text: truncateText(label, SLACK_LIMITS.buttonText) }, url, action_id: actionId };
    if (actionId === 'open-cluster') button.style = 'primary';
    buttons.push(button);
  }
  return buttons.slice(0, SLACK_LIMITS.actionsElements);
}

/** Slack reads `&`, `<` and `>` as markup (`<!channel>` would notify everyone), so text from transcripts is escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Truncates escaped mrkdwn without leaving half an entity (`&am…`) behind. */
function truncateMrkdwn(escaped: string, maxLength: number): string {
  if (escaped.length <= maxLength) return escaped;
  const cut = truncateText(escaped, maxLength);
  return cut.slice(0, -TRUNCATION_MARK.length).replace(/&[a-z]{0,3}$/, '') + TRUNCATION_MARK;
}

function codeSpan(text: string): string {
  return `\`${escapeMrkdwn(text.replaceAll('`', "'"))}\``;
}

/** Rendered in each reader's time zone by Slack; the ISO text is the fallback for clients that cannot. */
function slackDate(date: Date): string {
  return `<!date^${Math.floor(date.getTime() / 1000)}^{date_short_pretty} {time}|${date.toISOString()}>`;
}

function formatWindow(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  return `${ms} ms`;
}
