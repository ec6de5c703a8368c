/** A uPlot chart that follows its container's width. */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface UPlotChartProps {
  options: Omit<uPlot.Options, 'width'>;
  data: uPlot.AlignedData;
  /** Accessible description of what the chart shows (the canvas itself says nothing to a screen reader). */
  label: string;
  className?: string;
}

export function UPlotChart({ options, data, label, className }: UPlotChartProps) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const width = Math.max(element.clientWidth, 120);
    const chart = new uPlot({ ...options, width }, data, element);
    const observer = new ResizeObserver(() => {
      const next = Math.max(element.clientWidth, 120);
      if (next !== chart.width) chart.setSize({ width: next, height: options.height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [options, data]);
  return <div ref={container} className={className} role="img" aria-label={label} />;
}
