/**
 * One guardrail over time (uPlot): the estimated difference treatment − control with its interval band,
 * the rollback boundary and the non-inferiority margin as step lines, stage changes and the rollback as
 * vertical markers, values under the cursor in the legend, plus the same numbers as a table for screen readers.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartMarker, GuardrailSeries } from '../chart-data.ts';
import { formatDifference, formatMetricValue } from '../format.ts';
import { Time } from './ui.tsx';

const CHART_HEIGHT_PX = 220;
const MIN_WIDTH_PX = 240;
const COLORS = {
  estimate: '#2d5bd7',
  control: '#5b6472',
  treatment: '#7b1fa2',
  band: 'rgba(45, 91, 215, 0.16)',
  rollback: '#c62828',
  margin: '#b26a00',
  zero: '#8a8f98',
  stage: '#5b6472',
};

/** Step lines: the value holds until the next look. */
const stepped = uPlot.paths.stepped?.({ align: 1 });

/** Half the x-axis span, in seconds, when the chart has a single look. */
const SINGLE_LOOK_PAD_S = 1_800;

export function GuardrailChart({
  series,
  kind,
  markers = [],
}: {
  series: GuardrailSeries;
  /** Metric kind: proportions are shown in percentage points. */
  kind?: string | undefined;
  markers?: readonly ChartMarker[];
}) {
  const host = useRef<HTMLDivElement>(null);
  const fmt = (x: number | null | undefined) => formatDifference(x, kind);
  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    const width = () => Math.max(MIN_WIDTH_PX, el.clientWidth);
    const zero = series.times.map(() => 0);
    const value = (_u: uPlot, v: number | null) => formatDifference(v, kind);
    const instants = [...series.times, ...markers.map((m) => m.t)];
    const lo = Math.min(...instants);
    const hi = Math.max(...instants);
    const xRange: uPlot.Range.MinMax =
      lo === hi ? [lo - SINGLE_LOOK_PAD_S, hi + SINGLE_LOOK_PAD_S] : [lo, hi];
    const drawMarkers = (u: uPlot) => {
      const { ctx, bbox } = u;
      ctx.save();
      for (const m of markers) {
        const x = u.valToPos(m.t, 'x', true);
        if (x < bbox.left || x > bbox.left + bbox.width) continue;
        ctx.strokeStyle = m.kind === 'rollback' ? COLORS.rollback : COLORS.stage;
        ctx.lineWidth = m.kind === 'rollback' ? 2 : 1;
        ctx.setLineDash(m.kind === 'stage' ? [3, 3] : []);
        ctx.beginPath();
        ctx.moveTo(x, bbox.top);
        ctx.lineTo(x, bbox.top + bbox.height);
        ctx.stroke();
      }
      ctx.restore();
    };
    const data: uPlot.AlignedData = [
      series.times,
      series.estimate,
      series.upper,
      series.lower,
      series.rollback,
      series.margin,
      zero,
      ...(series.quantile ? [series.quantile.control, series.quantile.treatment] : []),
    ];
    const armValue = (_u: uPlot, v: number | null) => formatMetricValue(v, 'mean');
    const armSeries: uPlot.Series[] = series.quantile
      ? [
          {
            label: `control ${series.quantile.name}`,
            scale: 'value',
            stroke: COLORS.control,
            width: 1.5,
            points: { show: true, size: 4 },
            value: armValue,
          },
          {
            label: `treatment ${series.quantile.name}`,
            scale: 'value',
            stroke: COLORS.treatment,
            width: 1.5,
            points: { show: true, size: 4 },
            value: armValue,
          },
        ]
      : [];
    const plot = new uPlot(
      {
        width: width(),
        height: CHART_HEIGHT_PX,
        // One look has no time span: show it in the middle of an hour instead of letting the axis run for years.
        // The whole rollout: from the first look or marker to the last; one instant gets an hour around it.
        scales: { x: { time: true, range: () => xRange } },
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false } },
        hooks: { draw: [drawMarkers] },
        series: [
          {},
          {
            label: 'difference',
            stroke: COLORS.estimate,
            width: 2,
            points: { show: true, size: 6 },
            value,
          },
          { label: 'upper', stroke: 'transparent', points: { show: false }, value },
          { label: 'lower', stroke: 'transparent', points: { show: false }, value },
          {
            label: 'rollback at',
            stroke: COLORS.rollback,
            width: 1.5,
            dash: [6, 4],
            points: { show: false },
            spanGaps: true,
            value,
            ...(stepped ? { paths: stepped } : {}),
          },
          {
            label: 'margin',
            stroke: COLORS.margin,
            width: 1.5,
            dash: [2, 3],
            points: { show: false },
            spanGaps: true,
            value,
            ...(stepped ? { paths: stepped } : {}),
          },
          { label: 'no difference', stroke: COLORS.zero, width: 1, points: { show: false }, show: true },
          ...armSeries,
        ],
        bands: [{ series: [2, 3], fill: COLORS.band }],
        axes: [
          {},
          { size: 72, values: (_u, ticks) => ticks.map((t) => formatDifference(t, kind)) },
          // Quantile metrics: both arms' quantiles in metric units on a second axis, at the right.
          ...(series.quantile
            ? [
                {
                  scale: 'value',
                  side: 1 as const,
                  size: 64,
                  grid: { show: false },
                  values: (_u: uPlot, ticks: number[]) => ticks.map((t) => formatMetricValue(t, 'mean')),
                },
              ]
            : []),
        ],
      },
      data,
      el,
    );
    const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: CHART_HEIGHT_PX }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [series, kind, markers]);

  return (
    <figure className="chart" aria-label={`Guardrail ${series.metric}: estimated difference over time`}>
      <figcaption>
        <strong>{series.metric}</strong>
        <span className="muted">
          {' '}
          — {series.quantile ? `relative change of ${series.quantile.name}` : 'difference'} treatment −
          control, with interval, rollback boundary and margin
          {series.quantile ? `; both arms' ${series.quantile.name} on the right axis` : ''}
        </span>
        {series.quantile ? <QuantileNow series={series} /> : null}
      </figcaption>
      <div ref={host} className="chart-canvas" data-testid={`chart-${series.metric}`} />
      <ul className="chart-legend" aria-hidden="true">
        <li>
          <span className="key-line" style={{ borderColor: COLORS.estimate }} /> difference
        </li>
        <li>
          <span className="key-band" style={{ background: COLORS.band }} /> interval
        </li>
        <li>
          <span className="key-line key-dashed" style={{ borderColor: COLORS.rollback }} /> rollback boundary
        </li>
        <li>
          <span className="key-line key-dotted" style={{ borderColor: COLORS.margin }} /> margin
        </li>
        {series.quantile ? (
          <li>
            <span className="key-line" style={{ borderColor: COLORS.control }} /> control{' '}
            {series.quantile.name}, <span className="key-line" style={{ borderColor: COLORS.treatment }} />{' '}
            treatment {series.quantile.name}
          </li>
        ) : null}
        {markers.length > 0 ? (
          <li>
            <span className="key-line key-dashed" style={{ borderColor: COLORS.stage }} /> stage change,{' '}
            <span className="key-line" style={{ borderColor: COLORS.rollback }} /> rollback
          </li>
        ) : null}
      </ul>
      <details>
        <summary>Numbers</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Look</th>
                <th scope="col">Difference</th>
                <th scope="col">Interval</th>
                <th scope="col">Rollback at</th>
                <th scope="col">Margin</th>
                {series.quantile ? (
                  <>
                    <th scope="col">Control {series.quantile.name}</th>
                    <th scope="col">Treatment {series.quantile.name}</th>
                  </>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {series.times.map((t, i) => (
                <tr key={t}>
                  <td>
                    <Time iso={new Date(t * 1000).toISOString()} />
                  </td>
                  <td>{fmt(series.estimate[i])}</td>
                  <td>
                    [{fmt(series.lower[i])}, {fmt(series.upper[i])}]
                  </td>
                  <td>{fmt(series.rollback[i])}</td>
                  <td>{fmt(series.margin[i])}</td>
                  {series.quantile ? (
                    <>
                      <td>{formatMetricValue(series.quantile.control[i], 'mean')}</td>
                      <td>{formatMetricValue(series.quantile.treatment[i], 'mean')}</td>
                    </>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** The latest look's quantile of each arm, as text under the chart's title. */
function QuantileNow({ series }: { series: GuardrailSeries }) {
  const q = series.quantile;
  if (q === undefined) return null;
  const last = series.times.length - 1;
  return (
    <span className="small" data-testid={`quantiles-${series.metric}`}>
      {' '}
      {q.name}: control {formatMetricValue(q.control[last], 'mean')}, treatment{' '}
      {formatMetricValue(q.treatment[last], 'mean')}
    </span>
  );
}
