// The task graph of a DAG run: tasks as boxes in columns by dependency depth, an arrow from
// each dependency to the task that waits for it. Boxes are HTML (links, text that wraps);
// the arrows are an SVG drawn from the same coordinates. Arrows are routed orthogonally
// through the gaps between columns, and an arrow that spans columns crosses the columns in
// between along a free lane (a gap between boxes, or below them all), so an arrow never
// passes behind a box (routeEdges, tested with the boxes' rectangles). The graph scrolls and
// zooms (−, +, fit to width); clicking a box (or its "Log" button) selects the task, and the
// page shows its log.
import { useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { graphColumns } from '../api/dag-file.ts';
import { formatBytes, formatDuration } from '../api/format.ts';
import type { DagTaskDetails, TimeValue } from '../api/types.ts';
import { StatusBadge } from './status-badge.tsx';

export const BOX_WIDTH = 220;
export const COLUMN_GAP = 56;
const ROW_GAP = 16;
const LINE = 18;
const PADDING = 10;
/** room above the first row, so a lane can run above every box */
const TOP = 12;
/** where on a box its arrows start and end, from its top */
const PORT_Y = 24;
/** an arrow keeps this far from a box it passes */
const CLEARANCE = 4;

/** A box's height: name, status with duration, worker, then one line per input. */
const boxHeight = (task: DagTaskDetails) => PADDING * 2 + 24 + 22 + LINE + (task.reusedFrom ? LINE : 0) + task.inputs.length * LINE;

export interface Placed {
  task: DagTaskDetails;
  column: number;
  x: number;
  y: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface RoutedEdge {
  from: string;
  to: string;
  /** a polyline of horizontal and vertical segments, from the source's right side to the target's left */
  points: Point[];
}

export interface GraphLayout {
  placed: Map<string, Placed>;
  edges: RoutedEdge[];
  width: number;
  height: number;
}

/** Boxes in columns by depth, then every arrow routed around them. */
export function layoutGraph(tasks: readonly DagTaskDetails[]): GraphLayout {
  const columns = graphColumns(tasks);
  const placed = new Map<string, Placed>();
  let height = 0;
  columns.forEach((column, c) => {
    let y = TOP;
    for (const task of column) {
      const h = boxHeight(task);
      placed.set(task.name, { task, column: c, x: c * (BOX_WIDTH + COLUMN_GAP), y, height: h });
      y += h + ROW_GAP;
    }
    height = Math.max(height, y - ROW_GAP);
  });
  const width = columns.length * BOX_WIDTH + Math.max(0, columns.length - 1) * COLUMN_GAP;
  const edges = routeEdges(placed);
  const lowest = Math.max(height, ...edges.flatMap((edge) => edge.points.map((p) => p.y)));
  return { placed, edges, width, height: lowest + ROW_GAP / 2 };
}

/** The arrows between placed boxes (see the file's comment). */
export function routeEdges(placed: ReadonlyMap<string, Placed>): RoutedEdge[] {
  const byColumn = new Map<number, Placed[]>();
  for (const box of placed.values()) byColumn.set(box.column, [...(byColumn.get(box.column) ?? []), box]);
  const bottom = Math.max(0, ...[...placed.values()].map((b) => b.y + b.height));
  // candidate lanes: above every box, in each gap between two boxes of a column, below every box
  const lanes = new Set<number>([TOP / 2, bottom + ROW_GAP / 2]);
  for (const boxes of byColumn.values()) {
    for (let i = 1; i < boxes.length; i += 1) lanes.add((boxes[i - 1]!.y + boxes[i - 1]!.height + boxes[i]!.y) / 2);
  }
  const free = (y: number, fromColumn: number, toColumn: number) => {
    for (let c = fromColumn; c <= toColumn; c += 1) {
      for (const box of byColumn.get(c) ?? []) if (y > box.y - CLEARANCE && y < box.y + box.height + CLEARANCE) return false;
    }
    return true;
  };
  const edges: RoutedEdge[] = [];
  for (const to of placed.values()) {
    for (const name of to.task.dependsOn) {
      const from = placed.get(name);
      if (!from) continue;
      const x1 = from.x + BOX_WIDTH;
      const y1 = from.y + PORT_Y;
      const x2 = to.x;
      const y2 = to.y + PORT_Y;
      // spread the vertical runs of a gap apart by the source's row, inside the gap
      const row = (byColumn.get(from.column) ?? []).indexOf(from);
      const spread = ((row % 5) - 2) * 6;
      const gapAfter = x1 + COLUMN_GAP / 2 + spread;
      const gapBefore = x2 - COLUMN_GAP / 2 + spread;
      let points: Point[];
      if (to.column === from.column + 1) {
        points = [{ x: x1, y: y1 }, { x: gapAfter, y: y1 }, { x: gapAfter, y: y2 }, { x: x2, y: y2 }];
      } else {
        const middle = (y1 + y2) / 2;
        const lane = [...lanes].filter((y) => free(y, from.column + 1, to.column - 1)).sort((a, b) => Math.abs(a - middle) - Math.abs(b - middle))[0] ?? bottom + ROW_GAP / 2;
        points = [{ x: x1, y: y1 }, { x: gapAfter, y: y1 }, { x: gapAfter, y: lane }, { x: gapBefore, y: lane }, { x: gapBefore, y: y2 }, { x: x2, y: y2 }];
      }
      edges.push({ from: from.task.name, to: to.task.name, points: points.filter((p, i) => i === 0 || p.x !== points[i - 1]!.x || p.y !== points[i - 1]!.y) });
    }
  }
  return edges;
}

const toMs = (value: TimeValue): number | undefined => {
  if (value === null || value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
};

/** How long a task ran: first attempt's start to last attempt's end (or now while it runs). */
export function taskDuration(task: Pick<DagTaskDetails, 'attempts' | 'status'>, now = Date.now()): { ms: number; running: boolean } | undefined {
  const starts = task.attempts.map((a) => toMs(a.startedAt)).filter((ms): ms is number => ms !== undefined);
  if (starts.length === 0) return undefined;
  const last = task.attempts[task.attempts.length - 1];
  const end = toMs(last?.finishedAt);
  if (end === undefined) return task.status === 'running' ? { ms: Math.max(0, now - Math.min(...starts)), running: true } : undefined;
  return { ms: Math.max(0, end - Math.min(...starts)), running: false };
}

const ZOOMS = [0.4, 0.5, 0.67, 0.8, 1, 1.25, 1.5];

export function DagGraph({ tasks, selected, onSelect }: { tasks: readonly DagTaskDetails[]; selected?: string | null; onSelect?: (name: string) => void }) {
  const { placed, edges, width, height } = layoutGraph(tasks);
  const [zoom, setZoom] = useState(1);
  const scroller = useRef<HTMLDivElement>(null);
  const step = (direction: 1 | -1) => {
    const index = ZOOMS.findIndex((z) => z >= zoom - 1e-9);
    setZoom(ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, (index < 0 ? ZOOMS.length - 1 : index) + direction))]!);
  };
  const fit = () => {
    const available = (scroller.current?.clientWidth ?? width) - 8;
    setZoom(Math.max(ZOOMS[0]!, Math.min(1, available / Math.max(width, 1))));
  };
  const choose = (name: string) => onSelect?.(name);
  return (
    <div className="dag-graph-wrap">
      <div className="dag-zoom" role="group" aria-label="Zoom the graph">
        <button type="button" className="btn btn-small" onClick={() => step(-1)} disabled={zoom <= ZOOMS[0]!} aria-label="Zoom out">
          −
        </button>
        <span className="muted small" data-testid="dag-zoom">
          {Math.round(zoom * 100)}%
        </span>
        <button type="button" className="btn btn-small" onClick={() => step(1)} disabled={zoom >= ZOOMS[ZOOMS.length - 1]!} aria-label="Zoom in">
          +
        </button>
        <button type="button" className="btn btn-small" onClick={fit}>
          Fit width
        </button>
        {zoom !== 1 ? (
          <button type="button" className="btn btn-small" onClick={() => setZoom(1)}>
            100%
          </button>
        ) : null}
      </div>
      <div className="dag-graph-scroll" ref={scroller}>
        <div style={{ width: width * zoom, height: height * zoom }}>
          <div
            className="dag-graph"
            style={{ width, height, transform: zoom === 1 ? undefined : `scale(${zoom})`, transformOrigin: '0 0' }}
            role="list"
            aria-label="Tasks of the run, in columns by dependency depth"
          >
            <svg className="dag-edges" width={width} height={height} aria-hidden="true">
              <defs>
                <marker id="dag-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                  <path d="M0,0 L8,4 L0,8 z" className="dag-arrow-head" />
                </marker>
              </defs>
              {edges.map((edge) => (
                <path
                  key={`${edge.from}->${edge.to}`}
                  data-edge={`${edge.from}->${edge.to}`}
                  className={`dag-edge dag-edge-${placed.get(edge.from)?.task.status ?? 'pending'}`}
                  d={edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ')}
                  markerEnd="url(#dag-arrow)"
                />
              ))}
            </svg>
            {[...placed.values()].map(({ task, x, y, height: h }) => {
              const duration = taskDuration(task);
              return (
                <div
                  key={task.name}
                  role="listitem"
                  className={`dag-node dag-node-${task.status}${selected === task.name ? ' dag-node-selected' : ''}${task.taskId ? ' dag-node-clickable' : ''}`}
                  style={{ left: x, top: y, width: BOX_WIDTH, height: h }}
                  data-task={task.name}
                  data-status={task.status}
                  title={task.reason ?? undefined}
                  onClick={(event) => {
                    // a link inside the box goes where it points; anywhere else selects the task
                    if (task.taskId && !(event.target as HTMLElement).closest('a')) choose(task.name);
                  }}
                >
                  <div className="dag-node-name">
                    {task.taskId ? (
                      <Link to={`/tasks/${encodeURIComponent(task.taskId)}`} title={`Open task ${task.taskId}`}>
                        {task.name}
                      </Link>
                    ) : (
                      <span>{task.name}</span>
                    )}
                  </div>
                  <div className="dag-node-status">
                    <StatusBadge status={task.status} />
                    {duration ? (
                      <span className="small dag-node-duration" data-testid="dag-duration" title={duration.running ? 'running for' : 'ran for (all attempts)'}>
                        {formatDuration(duration.ms)}
                        {duration.running ? '…' : ''}
                      </span>
                    ) : null}
                    {task.attempts.length > 1 ? <span className="muted small">try {task.attempts.length}</span> : null}
                    {task.taskId ? (
                      <button
                        type="button"
                        className="btn btn-small dag-node-log"
                        aria-label={`Log of ${task.name}`}
                        aria-pressed={selected === task.name}
                        onClick={(event) => {
                          event.stopPropagation();
                          choose(task.name);
                        }}
                      >
                        Log
                      </button>
                    ) : null}
                  </div>
                  <div className="dag-node-worker muted small" title={task.workerId ?? undefined}>
                    {task.workerId ? (
                      <>
                        on <Link to={`/workers/${encodeURIComponent(task.workerId)}`}>{task.workerId.slice(0, 8)}</Link>
                      </>
                    ) : (
                      'not placed yet'
                    )}
                  </div>
                  {task.reusedFrom ? (
                    <div className="dag-node-reused small" data-testid="dag-reused">
                      reused from <Link to={`/dags/${encodeURIComponent(task.reusedFrom)}`}>run {task.reusedFrom.slice(0, 8)}</Link>
                    </div>
                  ) : null}
                  {task.inputs.map((input) => (
                    <div
                      key={input.name}
                      className="dag-node-input small"
                      data-input={input.name}
                      data-cache={input.cache ?? 'none'}
                      title={`${input.name} from ${input.fromTask}${input.size !== undefined ? `, ${formatBytes(input.size)}` : ''}`}
                    >
                      <span className="ellipsis-fill mono">{input.name}</span>
                      <span className={`cache cache-${input.cache ?? 'none'}`}>{input.cache ?? '–'}</span>
                    </div>
                  ))}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}
