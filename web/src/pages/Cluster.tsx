/** One root cause: signature and placement, triage controls, servers over time, and the representative wait chain. */
import { useMemo, useState, type FormEvent } from 'react';
import type uPlot from 'uplot';
import { apiFetch, query, type ClusterDetail, type TriagePatch } from '../api.ts';
import { ChainGraph, kindOf } from '../components/ChainGraph.tsx';
import { UPlotChart } from '../components/UPlotChart.tsx';
import { formatDuration, formatTime, toSeconds } from '../format.ts';
import { href } from '../router.ts';
import { describeError, useApi } from '../useApi.ts';

export function Cluster({ id }: { id: string }) {
  const cluster = useApi<ClusterDetail>(`/v1/clusters/${encodeURIComponent(id)}${query({ window: '14d', bucket: '1d' })}`);
  const detail = cluster.data;
  return (
    <main id="main" tabIndex={-1}>
      <p>
        <a href={href.fleet()}>← Fleet</a>
      </p>
      {cluster.error && <p role="alert" className="error">{cluster.error}</p>}
      {!detail && !cluster.error && <p>Loading…</p>}
      {detail && (
        <>
          <h1>
            {detail.pattern} <span className="muted">· {detail.blamedModule ?? 'unknown module'}</span>
          </h1>
          <p>
            <span className={`state state-${detail.state}`} data-testid="cluster-state">
              {detail.state}
            </span>{' '}
            {detail.serverCount} servers · {detail.reportCount} reports · first seen {formatTime(detail.firstSeenAt)} · last seen {formatTime(detail.lastSeenAt)}
          </p>
          <div className="columns">
            <SignatureCard detail={detail} />
            <TriageCard detail={detail} onChanged={(next) => cluster.setData(next)} />
          </div>
          <ServersChart detail={detail} />
          <ChainCard detail={detail} />
        </>
      )}
    </main>
  );
}

function SignatureCard({ detail }: { detail: ClusterDetail }) {
  return (
    <section className="card" aria-labelledby="signature-heading">
      <h2 id="signature-heading">Signature</h2>
      <p>
        <code className="signature">{detail.signatureText}</code>
      </p>
      <h3>How it was built</h3>
      <ul>
        {detail.signatures.map((signature) => (
          <li key={signature.hash}>
            <code>{signature.hash}</code> ({signature.rulesVersion}): {signature.placement}
            {signature.notes.length > 0 && (
              <ul>
                {signature.notes.map((note) => (
                  <li key={note}>{note}</li>
                ))}
              </ul>
            )}
          </li>
        ))}
        {detail.notes.map((note) => (
          <li key={note}>{note}</li>
        ))}
      </ul>
      {detail.aliases.length > 0 && <p>Also known as: {detail.aliases.join(', ')}</p>}
    </section>
  );
}

function TriageCard({ detail, onChanged }: { detail: ClusterDetail; onChanged(next: ClusterDetail): void }) {
  const [note, setNote] = useState(detail.triage.note ?? '');
  const [ticketUrl, setTicketUrl] = useState(detail.triage.ticketUrl ?? '');
  const [version, setVersion] = useState(detail.triage.resolvedInVersion ?? '');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);

  async function patch(body: TriagePatch, done: string) {
    setBusy(true);
    setMessage(null);
    try {
      const next = await apiFetch<ClusterDetail>(`/v1/clusters/${encodeURIComponent(detail.id)}`, { method: 'PATCH', body: JSON.stringify(body) });
      onChanged(next);
      setMessage({ text: done, error: false });
    } catch (caught) {
      setMessage({ text: describeError(caught), error: true });
    } finally {
      setBusy(false);
    }
  }

  function saveDetails(event: FormEvent) {
    event.preventDefault();
    void patch({ note: note.trim() || null, ticketUrl: ticketUrl.trim() || null }, 'Note and ticket link saved.');
  }

  return (
    <section className="card" aria-labelledby="triage-heading">
      <h2 id="triage-heading">Triage</h2>
      <p>
        State: <strong>{detail.triage.state}</strong>
        {detail.triage.stateChangedAt && <> since {formatTime(detail.triage.stateChangedAt)}</>}
        {detail.triage.resolvedInVersion && <> · resolved in {detail.triage.resolvedInVersion}</>}
      </p>
      <div className="button-row">
        <button type="button" disabled={busy || detail.state === 'acknowledged'} onClick={() => void patch({ state: 'acknowledged' }, 'Acknowledged.')}>
          Acknowledge
        </button>
        <label className="inline">
          Resolved in version
          <input value={version} onChange={(event) => setVersion(event.target.value)} placeholder="optional" size={10} />
        </label>
        <button type="button" disabled={busy || detail.state === 'resolved'} onClick={() => void patch({ state: 'resolved', resolvedInVersion: version.trim() || null }, 'Resolved.')}>
          Resolve
        </button>
        <button type="button" disabled={busy || detail.state === 'open'} onClick={() => void patch({ state: 'open' }, 'Reopened.')}>
          Reopen
        </button>
      </div>
      <form onSubmit={saveDetails} className="stack">
        <label htmlFor="triage-note">Note</label>
        <textarea id="triage-note" rows={3} value={note} onChange={(event) => setNote(event.target.value)} />
        <label htmlFor="triage-ticket">Ticket link</label>
        <input id="triage-ticket" type="url" value={ticketUrl} onChange={(event) => setTicketUrl(event.target.value)} placeholder="https://tickets.example/…" />
        <button type="submit" disabled={busy}>
          Save note and ticket
        </button>
      </form>
      {detail.triage.ticketUrl && (
        <p>
          Ticket: <a href={detail.triage.ticketUrl} rel="noreferrer noopener" target="_blank">{detail.triage.ticketUrl}</a>
        </p>
      )}
      <p role="status" className={message?.error ? 'error' : 'ok'}>
        {message?.text ?? ''}
      </p>
    </section>
  );
}

function ServersChart({ detail }: { detail: ClusterDetail }) {
  const { options, data } = useMemo(() => {
    const points = detail.series.points;
    const chartData: uPlot.AlignedData = [points.map((point) => toSeconds(point.bucket)), points.map((point) => point.servers), points.map((point) => point.newServers), points.map((point) => point.reports)];
    const chartOptions: Omit<uPlot.Options, 'width'> = {
      height: 200,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [
        {},
        { label: 'servers', stroke: '#1d4ed8', width: 2, fill: 'rgba(29, 78, 216, 0.12)' },
        { label: 'new servers', stroke: '#b45309', width: 2, dash: [6, 4] },
        { label: 'reports', stroke: '#047857', width: 1 },
      ],
      axes: [{}, { size: 40 }],
    };
    return { options: chartOptions, data: chartData };
  }, [detail.series]);
  const peak = Math.max(0, ...detail.series.points.map((point) => point.servers));
  return (
    <section className="card" aria-labelledby="servers-heading">
      <h2 id="servers-heading">Servers affected over time ({detail.series.bucket === 'day' ? 'per day' : 'per hour'})</h2>
      <UPlotChart options={options} data={data} label={`Servers per ${detail.series.bucket}; at most ${peak} in one ${detail.series.bucket}.`} />
      <h3>Servers</h3>
      <ul className="server-list">
        {detail.servers.items.map((server) => (
          <li key={server.name}>
            <a href={href.server(server.name)}>{server.name}</a> — {server.reportCount} reports, last {formatTime(server.lastSeenAt)}
          </li>
        ))}
      </ul>
    </section>
  );
}

function ChainCard({ detail }: { detail: ClusterDetail }) {
  const representative = detail.representative;
  const finding = representative?.finding ?? null;
  const [selected, setSelected] = useState<number | null>(null);
  if (!representative || !finding) {
    return (
      <section className="card">
        <h2>Wait chain</h2>
        <p>No representative report yet.</p>
      </section>
    );
  }
  const { chain, rootBlocker } = finding;
  const rootId = chain.length > 0 ? chain[chain.length - 1]!.to : null;
  const rootLabel = chain.length > 0 ? chain[chain.length - 1]!.toLabel : rootBlocker.label;
  const step = selected === null ? null : chain[selected] ?? null;
  return (
    <section className="card" aria-labelledby="chain-heading">
      <h2 id="chain-heading">Wait chain of the representative report</h2>
      <p>
        From <a href={href.server(representative.server)}>{representative.server}</a>, received {formatTime(representative.receivedAt)}. {finding.summary}
      </p>
      {rootLabel && (
        <p className="root-blocker" data-testid="root-blocker" data-node={rootId ?? ''}>
          Root blocker: <strong>{rootLabel}</strong>
          {rootBlocker.waitedMs !== null && <> — waiting {formatDuration(rootBlocker.waitedMs)}</>}
          {rootBlocker.frames.length > 0 && (
            <>
              {' '}in <code>{rootBlocker.frames.join(' ← ')}</code>
            </>
          )}
        </p>
      )}
      {chain.length > 0 ? (
        <div className="chain-layout">
          <ChainGraph chain={chain} rootId={rootId} selectedStep={selected} onSelectStep={setSelected} />
          <aside className="evidence" aria-live="polite" data-testid="edge-evidence">
            {step ? (
              <>
                <h3>
                  {step.fromLabel} → {step.relation} → {step.toLabel}
                </h3>
                {step.inferred && <p className="muted">Inferred by a rule, not printed by the debugger.</p>}
                <pre>
                  {step.evidence.map((line) => (
                    <span key={`${line.line}-${line.text}`}>
                      <span className="line-number">{line.line}</span> {line.text}
                      {'\n'}
                    </span>
                  ))}
                </pre>
              </>
            ) : (
              <p>Click an edge of the graph, or choose a step below, to see the transcript lines it rests on.</p>
            )}
          </aside>
        </div>
      ) : (
        <p>This finding has no chain.</p>
      )}
      <h3>Steps</h3>
      <ol className="steps">
        {chain.map((item, index) => (
          <li key={`${item.from}-${item.to}`}>
            <button type="button" className="link-button" aria-pressed={selected === index} onClick={() => setSelected(index)}>
              <span className={`kind kind-${kindOf(item.from)}`}>{item.fromLabel}</span> {item.relation}
              {item.inferred ? ' (inferred)' : ''} <span className={`kind kind-${kindOf(item.to)}`}>{item.toLabel}</span>
            </button>
          </li>
        ))}
      </ol>
      <h3>Next commands to type</h3>
      {finding.missing.length === 0 ? (
        <p>Nothing is missing from the transcript.</p>
      ) : (
        <ul className="missing" data-testid="missing-commands">
          {finding.missing.map((item) => (
            <li key={item.command}>
              <code>{item.command}</code> — {item.what}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
