// A time series of worker usage (recharts). Used live on the dashboard and for history on
// the worker page. `data-samples` on the wrapper tells tests (and curious people) how many
// points are drawn.
import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useChartColors, type ChartColors } from './theme.ts';

export interface UsagePoint {
  t: number;
  cpu: number | null;
  memory: number | null;
  disk?: number | null;
  tasks?: number;
}

export type Series = 'cpu' | 'memory' | 'disk' | 'tasks';
const NAMES: Record<Series, string> = { cpu: 'CPU %', memory: 'Memory %', disk: 'Disk %', tasks: 'Running tasks' };

/** At most `max` points, evenly spread, always keeping the newest: drawing stays cheap however long the history. */
export function thin(points: UsagePoint[], max: number): UsagePoint[] {
  if (points.length <= max) return points;
  const step = points.length / max;
  const out: UsagePoint[] = [];
  for (let i = 0; i < max - 1; i += 1) out.push(points[Math.floor(i * step)]!);
  out.push(points[points.length - 1]!);
  return out;
}

const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function UsageChart({
  points,
  series = ['cpu', 'memory'],
  height = 180,
  label,
  percent = true,
  maxDrawn = 240,
}: {
  points: UsagePoint[];
  series?: Series[];
  height?: number;
  label: string;
  percent?: boolean;
  maxDrawn?: number;
}) {
  const colors: ChartColors = useChartColors();
  const drawn = useMemo(() => thin(points, maxDrawn), [points, maxDrawn]);
  return (
    <figure className="chart" data-samples={points.length} aria-label={label} style={{ height }}>
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={drawn} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke={colors.grid} strokeDasharray="3 3" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={['dataMin', 'dataMax']}
            tickFormatter={clock}
            stroke={colors.text}
            fontSize={11}
            minTickGap={40}
          />
          <YAxis
            domain={percent ? [0, 100] : [0, 'auto']}
            allowDecimals={!percent ? false : true}
            stroke={colors.text}
            fontSize={11}
            width={percent ? 46 : 32}
            tickFormatter={(v: number) => (percent ? `${v}%` : String(v))}
          />
          <Tooltip
            labelFormatter={(t) => clock(Number(t))}
            formatter={(value) => (typeof value === 'number' ? (percent ? `${value.toFixed(1)}%` : String(value)) : String(value ?? '–'))}
            contentStyle={{ background: colors.surface, borderColor: colors.grid, fontSize: 12 }}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {series.map((key) => (
            <Line
              key={key}
              type="monotone"
              dataKey={key}
              name={NAMES[key]}
              stroke={colors[key]}
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
              connectNulls
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
