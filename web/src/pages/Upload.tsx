/** Drag-and-drop a transcript → POST /v1/reports with upload progress → follow GET /v1/reports/:id to its verdict. */
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { apiFetch, uploadReport, type ReportReceipt, type ReportView } from '../api.ts';
import { href } from '../router.ts';
import { describeError } from '../useApi.ts';

const POLL_MS = 1000;

export function Upload() {
  const [file, setFile] = useState<File | null>(null);
  const [server, setServer] = useState('');
  const [ticket, setTicket] = useState('');
  const [dragging, setDragging] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [receipt, setReceipt] = useState<ReportReceipt | null>(null);
  const [report, setReport] = useState<ReportView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  function choose(files: FileList | null) {
    const chosen = files?.[0] ?? null;
    setFile(chosen);
    setError(null);
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    choose(event.dataTransfer.files);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return setError('Choose or drop a transcript first.');
    if (!server.trim()) return setError('Name the server the transcript was taken on.');
    setError(null);
    setReceipt(null);
    setReport(null);
    setProgress(0);
    try {
      const sent = await uploadReport(file, { server: server.trim(), ticket: ticket.trim() || undefined }, setProgress).promise;
      setReceipt(sent);
    } catch (caught) {
      setProgress(null);
      setError(describeError(caught));
    }
  }

  // Follow the report until it is analysed or failed.
  useEffect(() => {
    if (!receipt) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const view = await apiFetch<ReportView>(`/v1/reports/${encodeURIComponent(receipt.id)}`);
        if (stopped) return;
        setReport(view);
        if (view.status === 'analysed' || view.status === 'failed') return;
      } catch (caught) {
        if (stopped) return;
        setError(describeError(caught));
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [receipt]);

  const status = report?.status ?? receipt?.status ?? null;
  return (
    <main id="main" tabIndex={-1}>
      <h1>Upload a transcript</h1>
      <form onSubmit={submit} className="stack upload-form">
        <div
          className={`drop-zone${dragging ? ' dragging' : ''}`}
          data-testid="drop-zone"
          onDragOver={(event) => {
            event.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <p>Drop a kd, WinDbg or cdb transcript here (text or .gz), or</p>
          <label htmlFor="transcript-file" className="button">
            Choose a file
          </label>
          <input id="transcript-file" ref={fileInput} type="file" className="visually-hidden-file" accept=".txt,.log,.gz,text/plain,application/gzip" onChange={(event) => choose(event.target.files)} />
          <p aria-live="polite">{file ? `Chosen: ${file.name} (${file.size.toLocaleString('en')} bytes)` : 'No file chosen.'}</p>
        </div>
        <label htmlFor="upload-server">Server name</label>
        <input id="upload-server" required value={server} onChange={(event) => setServer(event.target.value)} placeholder="FS-PRD-07" />
        <label htmlFor="upload-ticket">Ticket (optional)</label>
        <input id="upload-ticket" value={ticket} onChange={(event) => setTicket(event.target.value)} />
        <button type="submit" disabled={progress !== null && progress < 1 && !error}>
          Upload
        </button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {progress !== null && (
        <section className="card" aria-labelledby="upload-status-heading">
          <h2 id="upload-status-heading">Progress</h2>
          <label htmlFor="upload-progress">Uploaded</label>{' '}
          <progress id="upload-progress" max={1} value={progress}>
            {Math.round(progress * 100)}%
          </progress>{' '}
          {Math.round(progress * 100)}%
          <p role="status" data-testid="report-status">
            {status ? `Report ${receipt?.id ?? ''}: ${status}` : 'Sending…'}
            {receipt?.duplicate ? ' (already uploaded before)' : ''}
          </p>
          {report?.status === 'failed' && <p className="error">Analysis failed: {report.error?.message ?? 'unknown error'}</p>}
          {report?.status === 'analysed' && (
            <div data-testid="report-verdict">
              <p>
                Verdict: <strong>{report.verdict?.verdict ?? '—'}</strong> — {report.verdict?.summary}
              </p>
              <ul>
                {report.findings.map((finding) => (
                  <li key={finding.ordinal}>
                    <a href={href.cluster(finding.cluster.id)} data-testid="finding-cluster-link">
                      Open the cluster: {finding.pattern} · {finding.blamedModule ?? 'unknown module'}
                    </a>{' '}
                    ({finding.confidence})
                  </li>
                ))}
              </ul>
              <p>
                <a href={href.server(report.server)}>History of {report.server}</a>
              </p>
            </div>
          )}
        </section>
      )}
    </main>
  );
}
