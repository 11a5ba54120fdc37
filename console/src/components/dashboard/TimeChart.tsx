// A uPlot line chart of time series (x in seconds since the epoch), sized to its container and
// coloured for the current theme. The figures are also given as text (the latest value of each
// series) for screen readers and tests, since a canvas says nothing.
import { Paper, Text, useComputedColorScheme, VisuallyHidden } from '@mantine/core';
import { useElementSize } from '@mantine/hooks';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: (number | null)[];
}

const PALETTE = ['#4c6ef5', '#12b886', '#fab005', '#fa5252', '#be4bdb', '#15aabf', '#fd7e14', '#82c91e', '#e64980', '#7950f2'];

interface Props {
  title: string;
  /** Seconds since the epoch, one per sample. */
  times: number[];
  series: Series[];
  format: (v: number) => string;
  height?: number;
  testId?: string;
}

export function TimeChart({ title, times, series, format, height = 180, testId }: Props) {
  const { ref: box, width } = useElementSize();
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const dark = useComputedColorScheme('light') === 'dark';
  const labels = series.map((s) => s.label).join('\n');

  // A new plot when the series, theme or width class change; data alone goes through setData.
  // biome-ignore lint/correctness/useExhaustiveDependencies: labels stand for the series' identity
  useEffect(() => {
    if (!holder.current || width === 0) return;
    const axisColor = dark ? '#c1c2c5' : '#495057';
    const grid = dark ? '#373a40' : '#e9ecef';
    const axis: uPlot.Axis = { stroke: axisColor, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.floor(width),
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [axis, { ...axis, size: 70, values: (_u, vals) => vals.map((v) => format(v)) }],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)),
        })),
      ],
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, holder.current);
    return () => {
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [labels, dark, height, width > 0]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series]);

  useEffect(() => {
    if (width > 0) plot.current?.setSize({ width: Math.floor(width), height });
  }, [width, height]);

  const latest = series.map((s) => {
    const v = [...s.values].reverse().find((x) => x !== null && x !== undefined);
    return `${s.label}: ${v === undefined || v === null ? 'no data' : format(v)}`;
  });
  return (
    <Paper withBorder p="sm" component="figure" m={0} data-testid={testId} aria-label={title}>
      <Text fw={600} size="sm" component="figcaption" mb={4}>
        {title}
      </Text>
      <div ref={box}>
        <div ref={holder} role="img" aria-label={`${title} over the last hour. Latest: ${latest.join('; ')}`} />
      </div>
      {series.length === 0 && (
        <Text size="sm" c="dimmed">
          No data yet.
        </Text>
      )}
      <VisuallyHidden data-testid={testId ? `${testId}-latest` : undefined}>{latest.join('; ')}</VisuallyHidden>
    </Paper>
  );
}
