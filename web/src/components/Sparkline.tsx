/** A 14-day sparkline of a cluster's reports per day, drawn with uPlot. */
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';

export interface SparklineProps {
  /** Seconds since the epoch, one per bucket. */
  xs: number[];
  values: number[];
  label: string;
}

const WIDTH = 120;
const HEIGHT = 28;

export function Sparkline({ xs, values, label }: SparklineProps) {
  const container = useRef<HTMLDivElement>(null);
  const data = useMemo<uPlot.AlignedData>(() => [xs, values], [xs, values]);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        pxAlign: false,
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        legend: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: '#1d4ed8', fill: 'rgba(29, 78, 216, 0.15)', width: 1.5, points: { show: false } }],
      },
      data,
      element,
    );
    return () => chart.destroy();
  }, [data]);
  return <div ref={container} className="sparkline" role="img" aria-label={label} />;
}
