/** The fleet: a stacked trend chart of reports per cluster per day, and every cluster in a virtualised, server-side paged table. */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type uPlot from 'uplot';
import { CLUSTER_STATES } from '../../../services/fleet/fleet-vocabulary.ts';
import { apiFetch, query, type ClusterDetail, type ClusterSort, type ClusterSummary, type Page, type Trends } from '../api.ts';
import { Sparkline } from '../components/Sparkline.tsx';
import { UPlotChart } from '../components/UPlotChart.tsx';
import { formatTime, toSeconds } from '../format.ts';
import { href } from '../router.ts';
import { describeError, useApi } from '../useApi.ts';

const PAGE_SIZE = 100;
const ROW_HEIGHT = 44;
const TREND_PATH = `/v1/trends${query({ window: '14d', bucket: '1d', limit: 50 })}`;
const CHART_CLUSTERS = 8;
const PALETTE = ['#1d4ed8', '#b45309', '#047857', '#be123c', '#6d28d9', '#0e7490', '#a16207', '#4d7c0f', '#9ca3af'];

interface Filters {
  sort: ClusterSort;
  pattern: string;
  module: string;
  state: string;
  window: string;
}

const NO_FILTERS: Filters = { sort: 'servers', pattern: '', module: '', state: '', window: '' };

export function Fleet() {
  const trends = useApi<Trends>(TREND_PATH);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const clusters = useClusterPages(filters);

  function apply(event: FormEvent) {
    event.preventDefault();
    setFilters(draft);
  }

  function sortBy(sort: ClusterSort) {
    setDraft((current) => ({ ...current, sort }));
    setFilters((current) => ({ ...current, sort }));
  }

  return (
    <main id="main" tabIndex={-1}>
      <h1>Fleet</h1>
      <section aria-labelledby="trend-heading" className="card">
        <h2 id="trend-heading">Reports per cluster per day, last 14 days</h2>
        {trends.error && <p role="alert" className="error">{trends.error}</p>}
        {trends.data && <TrendChart trends={trends.data} />}
        {!trends.data && !trends.error && <p>Loading…</p>}
      </section>

      <section aria-labelledby="clusters-heading" className="card">
        <h2 id="clusters-heading">Clusters</h2>
        <form className="filters" onSubmit={apply} aria-label="Filter clusters">
          <label>
            Pattern
            <input value={draft.pattern} onChange={(event) => setDraft({ ...draft, pattern: event.target.value })} placeholder="e.g. deadlock" />
          </label>
          <label>
            Blamed module
            <input value={draft.module} onChange={(event) => setDraft({ ...draft, module: event.target.value })} placeholder="e.g. FabrikamDSM" />
          </label>
          <label>
            State
            <select value={draft.state} onChange={(event) => setDraft({ ...draft, state: event.target.value })}>
              <option value="">any</option>
              {CLUSTER_STATES.map((state) => (
                <option key={state} value={state}>
                  {state}
                </option>
              ))}
            </select>
          </label>
          <label>
            Seen in
            <select value={draft.window} onChange={(event) => setDraft({ ...draft, window: event.target.value })}>
              <option value="">all time</option>
              <option value="24h">last 24 hours</option>
              <option value="7d">last 7 days</option>
              <option value="14d">last 14 days</option>
              <option value="30d">last 30 days</option>
              <option value="90d">last 90 days</option>
            </select>
          </label>
          <label>
            Sort by
            <select value={draft.sort} onChange={(event) => setDraft({ ...draft, sort: event.target.value as ClusterSort })}>
              <option value="servers">servers affected</option>
              <option value="reports">reports</option>
              <option value="lastSeen">last seen</option>
              <option value="growth">growth</option>
            </select>
          </label>
          <button type="submit">Apply</button>
        </form>
        {clusters.error && <p role="alert" className="error">{clusters.error}</p>}
        <ClusterTable clusters={clusters.items} hasMore={clusters.nextCursor !== null} loading={clusters.loading} loadMore={clusters.loadMore} sort={filters.sort} onSort={sortBy} trends={trends.data} />
      </section>
    </main>
  );
}

function useClusterPages(filters: Filters) {
  const [items, setItems] = useState<ClusterSummary[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const inFlight = useRef(false);

  const fetchPage = useCallback(
    async (cursor: string | null, replace: boolean) => {
      const mine = generation.current;
      inFlight.current = true;
      setLoading(true);
      try {
        const page = await apiFetch<Page<ClusterSummary>>(
          `/v1/clusters${query({ sort: filters.sort, pattern: filters.pattern.trim(), module: filters.module.trim(), state: filters.state, window: filters.window, limit: PAGE_SIZE, cursor })}`,
        );
        if (mine !== generation.current) return;
        setItems((current) => (replace ? page.items : [...current, ...page.items]));
        setNextCursor(page.nextCursor);
        setError(null);
      } catch (caught) {
        if (mine === generation.current) setError(describeError(caught));
      } finally {
        if (mine === generation.current) {
          inFlight.current = false;
          setLoading(false);
        }
      }
    },
    [filters],
  );

  useEffect(() => {
    generation.current += 1;
    setItems([]);
    setNextCursor(null);
    void fetchPage(null, true);
  }, [fetchPage]);

  const loadMore = useCallback(() => {
    if (!inFlight.current && nextCursor) void fetchPage(nextCursor, false);
  }, [fetchPage, nextCursor]);

  return { items, nextCursor, loading, error, loadMore };
}

function TrendChart({ trends }: { trends: Trends }) {
  const { options, data, description } = useMemo(() => {
    const xs = trends.buckets.map(toSeconds);
    const top = trends.clusters.slice(0, CHART_CLUSTERS);
    const layers: { name: string; values: number[] }[] = top.map((entry) => ({
      name: `${entry.cluster.pattern} · ${entry.cluster.blamedModule ?? 'unknown module'}`,
      values: entry.series.map((point) => point.reports),
    }));
    const other = trends.totals.map((total, index) => total - top.reduce((sum, entry) => sum + (entry.series[index]?.reports ?? 0), 0));
    if (other.some((value) => value > 0)) layers.push({ name: 'other clusters', values: other });
    // Stacked: each layer is drawn at its cumulative height, the tallest first so the lower ones paint over it.
    const cumulative: number[][] = [];
    layers.forEach((layer, index) => {
      cumulative.push(layer.values.map((value, bucket) => value + (index > 0 ? cumulative[index - 1]![bucket]! : 0)));
    });
    const order = layers.map((_, index) => index).reverse();
    const series: uPlot.Series[] = [
      {},
      ...order.map((index) => ({
        label: layers[index]!.name,
        stroke: PALETTE[index % PALETTE.length]!,
        fill: `${PALETTE[index % PALETTE.length]!}cc`,
        width: 1,
        points: { show: false },
        value: (_u: uPlot, _value: number | null, _seriesIndex: number, bucket: number | null) => (bucket === null ? '—' : String(layers[index]!.values[bucket] ?? 0)),
      })),
    ];
    const chartData: uPlot.AlignedData = [xs, ...order.map((index) => cumulative[index]!)];
    const chartOptions: Omit<uPlot.Options, 'width'> = {
      height: 240,
      series,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { label: 'reports', size: 50 }],
    };
    const total = trends.totals.reduce((sum, value) => sum + value, 0);
    return { options: chartOptions, data: chartData, description: `Stacked chart: ${total} reports in 14 days across ${trends.clusters.length} clusters; top cluster ${layers[0]?.name ?? 'none'}.` };
  }, [trends]);
  if (trends.clusters.length === 0) return <p>No reports in the last 14 days.</p>;
  return <UPlotChart options={options} data={data} label={description} className="trend-chart" />;
}

interface ClusterTableProps {
  clusters: ClusterSummary[];
  hasMore: boolean;
  loading: boolean;
  loadMore(): void;
  sort: ClusterSort;
  onSort(sort: ClusterSort): void;
  trends: Trends | null;
}

const COLUMNS: { title: string; sort?: ClusterSort }[] = [
  { title: 'Pattern' },
  { title: 'Blamed module' },
  { title: 'Servers', sort: 'servers' },
  { title: 'Reports', sort: 'reports' },
  { title: 'First seen' },
  { title: 'Last seen', sort: 'lastSeen' },
  { title: 'State' },
  { title: 'Last 14 days' },
];

function ClusterTable({ clusters, hasMore, loading, loadMore, sort, onSort, trends }: ClusterTableProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: clusters.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 10 });
  const rows = virtualizer.getVirtualItems();
  const lastIndex = rows.length > 0 ? rows[rows.length - 1]!.index : -1;

  useEffect(() => {
    if (hasMore && !loading && lastIndex >= clusters.length - 20) loadMore();
  }, [lastIndex, clusters.length, hasMore, loading, loadMore]);

  const trendSeries = useMemo(() => {
    const map = new Map<string, number[]>();
    for (const entry of trends?.clusters ?? []) map.set(entry.cluster.id, entry.series.map((point) => point.reports));
    return map;
  }, [trends]);
  const xs = useMemo(() => (trends ? trends.buckets.map(toSeconds) : []), [trends]);

  return (
    <div className="cluster-table">
      <div role="table" aria-label="Clusters" aria-rowcount={hasMore ? -1 : clusters.length + 1}>
        <div role="rowgroup">
          <div role="row" className="cluster-row header">
            {COLUMNS.map((column) => (
              <div role="columnheader" key={column.title} aria-sort={column.sort && column.sort === sort ? 'descending' : undefined}>
                {column.sort ? (
                  <button type="button" className="link-button" onClick={() => onSort(column.sort!)} aria-label={`Sort by ${column.title.toLowerCase()}`}>
                    {column.title}
                    {column.sort === sort ? ' ▼' : ''}
                  </button>
                ) : (
                  column.title
                )}
              </div>
            ))}
          </div>
        </div>
        <div ref={scroller} className="cluster-scroller" role="rowgroup" data-testid="cluster-rows">
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {rows.map((row) => {
              const cluster = clusters[row.index]!;
              return (
                <div role="row" aria-rowindex={row.index + 2} key={cluster.id} className="cluster-row" style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${row.start}px)` }}>
                  <div role="cell">
                    <a href={href.cluster(cluster.id)} title={cluster.signatureText}>
                      {cluster.pattern}
                    </a>
                  </div>
                  <div role="cell">{cluster.blamedModule ?? '—'}</div>
                  <div role="cell" className="number">{cluster.serverCount}</div>
                  <div role="cell" className="number">{cluster.reportCount}</div>
                  <div role="cell">{formatTime(cluster.firstSeenAt)}</div>
                  <div role="cell">{formatTime(cluster.lastSeenAt)}</div>
                  <div role="cell">
                    <span className={`state state-${cluster.state}`}>{cluster.state}</span>
                  </div>
                  <div role="cell">
                    <ClusterSparkline id={cluster.id} fromTrends={trendSeries.get(cluster.id)} trendXs={xs} />
                  </div>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      <p className="table-status" aria-live="polite">
        {loading ? 'Loading clusters…' : `${clusters.length}${hasMore ? '+' : ''} ${clusters.length === 1 && !hasMore ? 'cluster' : 'clusters'}`}
      </p>
    </div>
  );
}

// Rows outside the trends' top 50 read their own 14-day series, a few at a time, once each.
const seriesCache = new Map<string, Promise<{ xs: number[]; values: number[] }>>();
let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= 4) await new Promise<void>((resolve) => waiting.push(resolve));
  running += 1;
  try {
    return await task();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

function clusterSeries(id: string) {
  let entry = seriesCache.get(id);
  if (!entry) {
    entry = limited(() => apiFetch<ClusterDetail>(`/v1/clusters/${encodeURIComponent(id)}${query({ window: '14d', bucket: '1d' })}`)).then((detail) => ({
      xs: detail.series.points.map((point) => toSeconds(point.bucket)),
      values: detail.series.points.map((point) => point.reports),
    }));
    entry.catch(() => seriesCache.delete(id));
    seriesCache.set(id, entry);
  }
  return entry;
}

function ClusterSparkline({ id, fromTrends, trendXs }: { id: string; fromTrends: number[] | undefined; trendXs: number[] }) {
  const [own, setOwn] = useState<{ xs: number[]; values: number[] } | null>(null);
  useEffect(() => {
    if (fromTrends) return;
    let cancelled = false;
    // A short delay: rows scrolled past quickly are never fetched.
    const timer = setTimeout(() => {
      clusterSeries(id).then(
        (series) => {
          if (!cancelled) setOwn(series);
        },
        () => undefined,
      );
    }, 150);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [id, fromTrends]);
  const series = fromTrends ? { xs: trendXs, values: fromTrends } : own;
  if (!series || series.xs.length === 0) return <span className="muted">…</span>;
  const total = series.values.reduce((sum, value) => sum + value, 0);
  return <Sparkline xs={series.xs} values={series.values} label={`${total} reports in the last 14 days`} />;
}
