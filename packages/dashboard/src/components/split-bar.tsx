/** A split drawn over the bucket space: one bar 0 %–100 %, a coloured piece per slice, gaps fall through. */
import type { SplitSlice } from '@dimmer/core';
import { formatPercent, splitPieces, uncoveredPercent } from '../describe.ts';

const PALETTE_SIZE = 6;

/** A stable colour slot for a variant, by its position among the flag's variants. */
export function variantColor(variant: string, variants: readonly string[]): string {
  const index = variants.indexOf(variant);
  return `var(--variant-${(index < 0 ? PALETTE_SIZE - 1 : index) % PALETTE_SIZE})`;
}

export function SplitBar({ split, variants }: { split: readonly SplitSlice[]; variants: readonly string[] }) {
  const pieces = splitPieces(split);
  const gap = uncoveredPercent(split);
  const summary =
    pieces.map((p) => p.label).join('; ') + (gap > 0 ? `; ${formatPercent(gap)} falls through` : '');
  return (
    <figure className="split">
      <div className="split-bar" role="img" aria-label={`Split over the bucket space: ${summary}`}>
        {pieces.map((p) => (
          <span
            key={`${p.variant}-${p.startPercent}`}
            className="split-piece"
            title={p.label}
            style={{
              left: `${p.startPercent}%`,
              width: `${p.widthPercent}%`,
              background: variantColor(p.variant, variants),
            }}
          />
        ))}
      </div>
      <div className="split-scale" aria-hidden="true">
        <span>0%</span>
        <span>50%</span>
        <span>100%</span>
      </div>
      <figcaption className="split-legend">
        {pieces.map((p) => (
          <span key={`${p.variant}-${p.startPercent}`} className="legend-item">
            <span className="swatch" style={{ background: variantColor(p.variant, variants) }} />
            <strong>{p.variant}</strong> {formatPercent(p.widthPercent)}
            {p.arm !== undefined ? <span className="muted"> ({p.arm})</span> : null}
            <span className="muted">
              {' '}
              [{formatPercent(p.startPercent)}, {formatPercent(p.startPercent + p.widthPercent)})
            </span>
          </span>
        ))}
        {gap > 0 ? (
          <span className="legend-item">
            <span className="swatch swatch-empty" />
            {formatPercent(gap)} falls through to the next rule
          </span>
        ) : null}
      </figcaption>
    </figure>
  );
}
