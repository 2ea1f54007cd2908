/**
 * One guardrail over time (uPlot): the estimated difference treatment − control with its interval band,
 * the rollback boundary and the non-inferiority margin, plus the same numbers as a table for screen readers.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { GuardrailSeries } from '../chart-data.ts';
import { Time } from './ui.tsx';

const CHART_HEIGHT_PX = 220;
const MIN_WIDTH_PX = 240;
const COLORS = {
  estimate: '#2d5bd7',
  band: 'rgba(45, 91, 215, 0.16)',
  rollback: '#c62828',
  margin: '#b26a00',
  zero: '#8a8f98',
};

function fmt(x: number | null | undefined): string {
  return typeof x === 'number' ? x.toPrecision(3) : '—';
}

/** Half the x-axis span, in seconds, when the chart has a single look. */
const SINGLE_LOOK_PAD_S = 1_800;

export function GuardrailChart({ series }: { series: GuardrailSeries }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    const width = () => Math.max(MIN_WIDTH_PX, el.clientWidth);
    const zero = series.times.map(() => 0);
    const data: uPlot.AlignedData = [
      series.times,
      series.estimate,
      series.upper,
      series.lower,
      series.rollback,
      series.margin,
      zero,
    ];
    const plot = new uPlot(
      {
        width: width(),
        height: CHART_HEIGHT_PX,
        // One look has no time span: show it in the middle of an hour instead of letting the axis run for years.
        scales: {
          x: {
            time: true,
            range: (_u, min, max) =>
              min === max ? [min - SINGLE_LOOK_PAD_S, max + SINGLE_LOOK_PAD_S] : [min, max],
          },
        },
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        series: [
          {},
          { label: 'difference', stroke: COLORS.estimate, width: 2, points: { show: true, size: 6 } },
          { label: 'upper', stroke: 'transparent', points: { show: false } },
          { label: 'lower', stroke: 'transparent', points: { show: false } },
          {
            label: 'rollback boundary',
            stroke: COLORS.rollback,
            width: 1.5,
            dash: [6, 4],
            points: { show: false },
          },
          { label: 'margin', stroke: COLORS.margin, width: 1.5, dash: [2, 3], points: { show: false } },
          { label: 'no difference', stroke: COLORS.zero, width: 1, points: { show: false } },
        ],
        bands: [{ series: [2, 3], fill: COLORS.band }],
        axes: [{}, { size: 64 }],
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
  }, [series]);

  return (
    <figure className="chart" aria-label={`Guardrail ${series.metric}: estimated difference over time`}>
      <figcaption>
        <strong>{series.metric}</strong>
        <span className="muted">
          {' '}
          — difference treatment − control, with interval, rollback boundary and margin
        </span>
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
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
