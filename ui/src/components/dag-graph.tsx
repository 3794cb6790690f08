// The task graph of a DAG run: tasks as boxes in columns by dependency depth, an arrow from
// each dependency to the task that waits for it. Boxes are HTML (links, text that wraps);
// the arrows are an SVG drawn underneath from the same coordinates.
import { Link } from 'react-router-dom';
import { graphColumns } from '../api/dag-file.ts';
import { formatBytes } from '../api/format.ts';
import type { DagTaskDetails } from '../api/types.ts';
import { StatusBadge } from './status-badge.tsx';

const BOX_WIDTH = 220;
const COLUMN_GAP = 56;
const ROW_GAP = 16;
const LINE = 18;
const PADDING = 10;

/** A box's height: name, status, worker, then one line per input. */
const boxHeight = (task: DagTaskDetails) => PADDING * 2 + 24 + 22 + LINE + Math.max(task.inputs.length, 0) * LINE;

interface Placed {
  task: DagTaskDetails;
  x: number;
  y: number;
  height: number;
}

export function layoutGraph(tasks: readonly DagTaskDetails[]): { placed: Map<string, Placed>; width: number; height: number } {
  const columns = graphColumns(tasks);
  const placed = new Map<string, Placed>();
  let height = 0;
  columns.forEach((column, c) => {
    let y = 0;
    for (const task of column) {
      const h = boxHeight(task);
      placed.set(task.name, { task, x: c * (BOX_WIDTH + COLUMN_GAP), y, height: h });
      y += h + ROW_GAP;
    }
    height = Math.max(height, y - ROW_GAP);
  });
  const width = columns.length * BOX_WIDTH + Math.max(0, columns.length - 1) * COLUMN_GAP;
  return { placed, width, height };
}

export function DagGraph({ tasks }: { tasks: readonly DagTaskDetails[] }) {
  const { placed, width, height } = layoutGraph(tasks);
  const edges: { from: Placed; to: Placed }[] = [];
  for (const to of placed.values()) {
    for (const name of to.task.dependsOn) {
      const from = placed.get(name);
      if (from) edges.push({ from, to });
    }
  }
  return (
    <div className="dag-graph-scroll">
      <div className="dag-graph" style={{ width, height }} role="list" aria-label="Tasks of the run, in columns by dependency depth">
        <svg className="dag-edges" width={width} height={height} aria-hidden="true">
          <defs>
            <marker id="dag-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
              <path d="M0,0 L8,4 L0,8 z" className="dag-arrow-head" />
            </marker>
          </defs>
          {edges.map(({ from, to }) => {
            const x1 = from.x + BOX_WIDTH;
            const y1 = from.y + 24;
            const x2 = to.x - 2;
            const y2 = to.y + 24;
            const bend = Math.max(24, (x2 - x1) / 2);
            return (
              <path
                key={`${from.task.name}->${to.task.name}`}
                data-edge={`${from.task.name}->${to.task.name}`}
                className={`dag-edge dag-edge-${from.task.status}`}
                d={`M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`}
                markerEnd="url(#dag-arrow)"
              />
            );
          })}
        </svg>
        {[...placed.values()].map(({ task, x, y, height: h }) => (
          <div
            key={task.name}
            role="listitem"
            className={`dag-node dag-node-${task.status}`}
            style={{ left: x, top: y, width: BOX_WIDTH, height: h }}
            data-task={task.name}
            data-status={task.status}
            title={task.reason ?? undefined}
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
              {task.attempts.length > 1 ? <span className="muted small">attempt {task.attempts.length}</span> : null}
            </div>
            <div className="dag-node-worker muted small" title={task.workerId ?? undefined}>
              {task.workerId ? <>on <Link to={`/workers/${encodeURIComponent(task.workerId)}`}>{task.workerId.slice(0, 8)}</Link></> : 'not placed yet'}
            </div>
            {task.inputs.map((input) => (
              <div key={input.name} className="dag-node-input small" data-input={input.name} data-cache={input.cache ?? 'none'} title={`${input.name} from ${input.fromTask}${input.size !== undefined ? `, ${formatBytes(input.size)}` : ''}`}>
                <span className="ellipsis-fill mono">{input.name}</span>
                <span className={`cache cache-${input.cache ?? 'none'}`}>{input.cache ?? '–'}</span>
              </div>
            ))}
          </div>
        ))}
      </div>
    </div>
  );
}
