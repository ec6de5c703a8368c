import type { Finding, Verdict } from '../engine/index.ts';

export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

export const PLAIN: Palette = { bold: (t) => t, dim: (t) => t, red: (t) => t, green: (t) => t, yellow: (t) => t };
export const ANSI: Palette = {
  bold: (t) => `\x1b[1m${t}\x1b[22m`,
  dim: (t) => `\x1b[2m${t}\x1b[22m`,
  red: (t) => `\x1b[31m${t}\x1b[39m`,
  green: (t) => `\x1b[32m${t}\x1b[39m`,
  yellow: (t) => `\x1b[33m${t}\x1b[39m`,
};

/** A report for a person: the verdict, then each finding's chain step by step with its evidence quoted. */
export function formatVerdict(verdict: Verdict, fileName: string, colour: Palette = PLAIN): string {
  const paint = verdict.verdict === 'hang' ? colour.red : verdict.verdict === 'no-hang' ? colour.green : colour.yellow;
  const out = [`${fileName}: ${paint(colour.bold(verdict.verdict.toUpperCase()))}`, verdict.summary];
  verdict.findings.forEach((finding, index) => out.push('', ...formatFinding(finding, index + 1, colour)));
  for (const note of verdict.notes) out.push('', colour.yellow(`note: ${note}`));
  return out.join('\n');
}

function formatFinding(finding: Finding, number: number, colour: Palette): string[] {
  const out = [
    colour.bold(`${number}. ${finding.pattern}`) + colour.dim(` (confidence ${finding.confidence}${finding.blamedModule ? `, blamed module ${finding.blamedModule}` : ''})`),
    `   ${finding.summary}`,
    ...(finding.signature ? [colour.dim(`   signature ${finding.signature.hash}: ${finding.signature.text}`)] : []),
    `   root blocker: ${finding.rootBlocker.label}${finding.rootBlocker.waitedMs !== null ? `, waiting ${formatDuration(finding.rootBlocker.waitedMs)}` : ''}`,
  ];
  for (const frame of finding.rootBlocker.frames) out.push(colour.dim(`      ${frame}`));
  if (finding.collateral.threads > 0) out.push(`   collateral: ${finding.collateral.threads} more waiting thread(s) in ${finding.collateral.processes} process(es)`);
  if (finding.chain.length > 0) out.push('   chain:');
  finding.chain.forEach((step, index) => {
    if (index === 0) out.push(`     ${step.fromLabel}`);
    out.push(`       ${step.inferred ? '~> ' : '-> '}${colour.dim(step.relation)} ${step.toLabel}${step.inferred ? colour.dim(' (inferred)') : ''}`);
    for (const evidence of step.evidence.slice(0, 3)) out.push(colour.dim(`            ${String(evidence.line).padStart(6)}| ${evidence.text}`));
  });
  if (finding.missing.length > 0) out.push('   next commands:');
  for (const hop of finding.missing) out.push(`     ${colour.bold(hop.command.padEnd(28))} ${colour.dim(hop.what)}`);
  return out;
}

function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `${hours} h ${minutes} min` : minutes > 0 ? `${minutes} min ${seconds % 60} s` : `${(ms / 1000).toFixed(1)} s`;
}
