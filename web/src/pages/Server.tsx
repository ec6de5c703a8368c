import { useState } from 'react';
import { query, type Page, type ServerHistory, type ServerItem } from '../api.ts';
import { formatTime } from '../format.ts';
import { href } from '../router.ts';
import { useApi } from '../useApi.ts';

/** A server's reports over time, with verdicts and the clusters of their findings. */
export function Server({ name }: { name: string }) {
  const [cursor, setCursor] = useState<string | null>(null);
  const [previous, setPrevious] = useState<(string | null)[]>([]);
  const history = useApi<ServerHistory>(`/v1/servers/${encodeURIComponent(name)}/history${query({ limit: 50, cursor })}`);
  const data = history.data;
  return (
    <main id="main" tabIndex={-1}>
      <p>
        <a href={href.servers()}>← Servers</a>
      </p>
      <h1>{name}</h1>
      {history.error && <p role="alert" className="error">{history.error}</p>}
      {data && (
        <>
          <p>
            {data.server.reportCount} reports · first seen {formatTime(data.server.firstSeenAt)} · last seen {formatTime(data.server.lastSeenAt)}
          </p>
          <table className="data-table">
            <caption>Reports, most recent first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Status</th>
                <th scope="col">Verdict</th>
                <th scope="col">Findings</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((report) => (
                <tr key={report.reportId}>
                  <td>{formatTime(report.receivedAt)}</td>
                  <td>{report.status}{report.error && <> — {report.error.message}</>}</td>
                  <td>
                    {report.verdict ?? '—'}
                    {report.summary && <div className="muted">{report.summary}</div>}
                  </td>
                  <td>
                    <ul className="plain">
                      {report.findings.map((finding) => (
                        <li key={finding.signature}>
                          <a href={href.cluster(finding.cluster.id)}>{finding.pattern}</a> · {finding.blamedModule ?? 'unknown module'} ({finding.confidence})
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager hasPrevious={previous.length > 0} nextCursor={data.nextCursor} onPrevious={() => { setCursor(previous[previous.length - 1] ?? null); setPrevious(previous.slice(0, -1)); }} onNext={() => { setPrevious([...previous, cursor]); setCursor(data.nextCursor); }} />
        </>
      )}
    </main>
  );
}

export function Servers() {
  const [cursor, setCursor] = useState<string | null>(null);
  const [previous, setPrevious] = useState<(string | null)[]>([]);
  const servers = useApi<Page<ServerItem>>(`/v1/servers${query({ limit: 100, cursor })}`);
  return (
    <main id="main" tabIndex={-1}>
      <h1>Servers</h1>
      {servers.error && <p role="alert" className="error">{servers.error}</p>}
      {servers.data && (
        <>
          <table className="data-table">
            <caption>Servers, most recently seen first</caption>
            <thead>
              <tr>
                <th scope="col">Server</th>
                <th scope="col">Reports</th>
                <th scope="col">First seen</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {servers.data.items.map((server) => (
                <tr key={server.name}>
                  <td><a href={href.server(server.name)}>{server.name}</a></td>
                  <td className="number">{server.reportCount}</td>
                  <td>{formatTime(server.firstSeenAt)}</td>
                  <td>{formatTime(server.lastSeenAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager hasPrevious={previous.length > 0} nextCursor={servers.data.nextCursor} onPrevious={() => { setCursor(previous[previous.length - 1] ?? null); setPrevious(previous.slice(0, -1)); }} onNext={() => { setPrevious([...previous, cursor]); setCursor(servers.data!.nextCursor); }} />
        </>
      )}
    </main>
  );
}

function Pager({ hasPrevious, nextCursor, onPrevious, onNext }: { hasPrevious: boolean; nextCursor: string | null; onPrevious(): void; onNext(): void }) {
  return (
    <nav aria-label="Pages" className="button-row">
      <button type="button" disabled={!hasPrevious} onClick={onPrevious}>Previous page</button>
      <button type="button" disabled={!nextCursor} onClick={onNext}>Next page</button>
    </nav>
  );
}
