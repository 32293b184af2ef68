import { useId, useState } from 'react';
import { Box, Button, Group, Table, Text } from '@mantine/core';

/** One stacked part of each bar, drawn bottom-up in the order given. */
export interface ChartSeries {
  readonly key: string;
  readonly label: string;
  /** A Mantine colour name (`blue`, `red`): the theme's shade 6, which keeps AA contrast against the background in both themes. */
  readonly color: string;
}

export interface TimeChartProps {
  /** The chart's accessible name ("Calls per minute"). */
  readonly label: string;
  readonly series: readonly ChartSeries[];
  /** Bars in time order: `start` (epoch ms) and a number per series key. */
  readonly points: readonly ({ readonly start: number } & Readonly<Record<string, number>>)[];
  /** How a bar's start reads on the axis and in its tooltip. */
  readonly formatTime: (start: number) => string;
  readonly height?: number;
}

const W = 720;
const PAD = { top: 12, right: 12, bottom: 28, left: 48 };

/** 1, 2 or 5 times a power of ten, at least `max` (so the top tick is a round number). */
function niceCeiling(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/**
 * A stacked bar chart over time in plain SVG (no charting dependency): an `img` with a title and
 * a summary for screen readers, a tooltip per bar, a legend, and the same figures as a table on
 * request.
 *
 * @example
 * ```tsx
 * <TimeChart label="Calls per hour" formatTime={(t) => new Date(t).toLocaleTimeString()}
 *   series={[{ key: 'ok', label: 'Successful', color: 'blue' }, { key: 'errors', label: 'Errors', color: 'red' }]}
 *   points={buckets.map((b) => ({ start: b.start, ok: b.calls - b.errors, errors: b.errors }))} />
 * ```
 */
export function TimeChart({ label, series, points, formatTime, height = 220 }: TimeChartProps) {
  const id = useId();
  const [asTable, setAsTable] = useState(false);
  const totalOf = (p: TimeChartProps['points'][number]) => series.reduce((s, x) => s + (p[x.key] ?? 0), 0);
  const peak = points.reduce((m, p) => Math.max(m, totalOf(p)), 0);
  const top = niceCeiling(peak);
  const plotW = W - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const slot = points.length > 0 ? plotW / points.length : plotW;
  const bar = Math.max(1, slot * 0.8);
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const ticks = [0, top / 2, top];
  const labelled = points.length <= 1 ? [0] : [0, Math.floor((points.length - 1) / 2), points.length - 1];
  const sums = series.map((s) => points.reduce((t, p) => t + (p[s.key] ?? 0), 0));
  const summary = points.length === 0
    ? 'No data.'
    : `${points.length} bars from ${formatTime(points[0]!.start)} to ${formatTime(points[points.length - 1]!.start)}; ` +
      series.map((s, i) => `${s.label}: ${sums[i]}`).join(', ') +
      `; highest bar ${peak}.`;

  return (
    <Box>
      <svg viewBox={`0 0 ${W} ${height}`} width="100%" role="img" aria-labelledby={`${id}-title ${id}-desc`} data-testid="time-chart" style={{ display: 'block' }}>
        <title id={`${id}-title`}>{label}</title>
        <desc id={`${id}-desc`}>{summary}</desc>
        {ticks.map((t) => (
          <g key={t} aria-hidden="true">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} stroke="var(--mantine-color-default-border)" strokeWidth={1} />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" fontSize={11} fill="var(--mantine-color-dimmed)">
              {Number.isInteger(t) ? t : t.toFixed(1)}
            </text>
          </g>
        ))}
        {points.map((p, i) => {
          let base = 0;
          const x = PAD.left + i * slot + (slot - bar) / 2;
          return (
            <g key={p.start}>
              <title>{`${formatTime(p.start)}: ${series.map((s) => `${p[s.key] ?? 0} ${s.label.toLowerCase()}`).join(', ')}`}</title>
              {series.map((s) => {
                const v = p[s.key] ?? 0;
                if (v <= 0) return null;
                const y0 = y(base);
                base += v;
                return <rect key={s.key} x={x} width={bar} y={y(base)} height={Math.max(0, y0 - y(base))} fill={`var(--mantine-color-${s.color}-6)`} />;
              })}
              {/* An invisible full-height target, so thin bars still show their tooltip. */}
              <rect x={PAD.left + i * slot} width={slot} y={PAD.top} height={plotH} fill="transparent" />
            </g>
          );
        })}
        {labelled.map((i) =>
          points[i] ? (
            <text key={i} aria-hidden="true" x={PAD.left + i * slot + slot / 2} y={height - 8} textAnchor={i === 0 ? 'start' : i === points.length - 1 ? 'end' : 'middle'} fontSize={11} fill="var(--mantine-color-dimmed)">
              {formatTime(points[i]!.start)}
            </text>
          ) : null,
        )}
      </svg>
      <Group justify="space-between" mt="xs" wrap="wrap">
        <Group gap="md" component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label={`${label}: legend`}>
          {series.map((s) => (
            <Group key={s.key} gap={6} component="li">
              <Box aria-hidden="true" w={12} h={12} style={{ borderRadius: 2, background: `var(--mantine-color-${s.color}-6)` }} />
              <Text size="sm">{s.label}</Text>
            </Group>
          ))}
        </Group>
        <Button size="xs" variant="subtle" onClick={() => setAsTable((v) => !v)} aria-expanded={asTable} aria-controls={`${id}-table`}>
          {asTable ? 'Hide the figures' : 'Show the figures as a table'}
        </Button>
      </Group>
      {asTable && (
        // Focusable, so the keyboard scrolls it (axe: scrollable-region-focusable).
        <Box mt="xs" id={`${id}-table`} tabIndex={0} role="region" aria-label={`${label}: figures`} style={{ maxHeight: 320, overflow: 'auto' }}>
          <Table striped withTableBorder fz="sm">
            <Table.Caption>{label}</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Time</Table.Th>
                {series.map((s) => (
                  <Table.Th key={s.key} scope="col">
                    {s.label}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {points.map((p) => (
                <Table.Tr key={p.start}>
                  <Table.Th scope="row" fw={400}>
                    {formatTime(p.start)}
                  </Table.Th>
                  {series.map((s) => (
                    <Table.Td key={s.key}>{p[s.key] ?? 0}</Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Box>
      )}
    </Box>
  );
}
