// A windowed log list: only the rows in view (plus a few) are in the DOM, so 100,000 lines
// scroll as smoothly as 100. Rows have a fixed height; long lines scroll sideways.
// follow = keep the newest line in view; scrolling up turns it off (like `less +F`).
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { LogLine } from '../live/log-buffer.ts';

export const ROW_HEIGHT = 20;
const OVERSCAN = 20;
const DEFAULT_HEIGHT = 480;

export function LogView({
  lines,
  count,
  version,
  follow,
  onFollowChange,
}: {
  lines: readonly LogLine[];
  /** how many of `lines` to show (less than lines.length while paused) */
  count: number;
  /** changes whenever lines were added */
  version: number;
  follow: boolean;
  onFollowChange: (follow: boolean) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(DEFAULT_HEIGHT);
  const total = count * ROW_HEIGHT;

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const measure = () => setHeight(element.clientHeight || DEFAULT_HEIGHT);
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  // follow: stick to the bottom whenever lines arrive
  useLayoutEffect(() => {
    const element = box.current;
    if (!element || !follow) return;
    const bottom = Math.max(0, total - element.clientHeight);
    element.scrollTop = bottom;
    setScrollTop(element.scrollTop || bottom);
  }, [follow, total, version]);

  const onScroll = useCallback(() => {
    const element = box.current;
    if (!element) return;
    setScrollTop(element.scrollTop);
    const atBottom = element.scrollTop + element.clientHeight >= element.scrollHeight - ROW_HEIGHT * 1.5;
    if (follow && !atBottom) onFollowChange(false);
    else if (!follow && atBottom && element.scrollTop > 0) onFollowChange(true);
  }, [follow, onFollowChange]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(count, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const rows = [];
  const digits = String(count).length;
  for (let index = first; index < last; index += 1) {
    const line = lines[index];
    if (!line) continue;
    rows.push(
      <div key={index} className={`log-row log-${line.stream}`} style={{ top: index * ROW_HEIGHT }} data-line={index + 1}>
        <span className="log-no" style={{ width: `${digits + 1}ch` }}>
          {index + 1}
        </span>
        <span className="log-tag" aria-label={line.stream}>
          {line.stream === 'stderr' ? 'err' : line.stream === 'system' ? 'sys' : ''}
        </span>
        <span className="log-text">{line.text}</span>
      </div>,
    );
  }
  return (
    <div ref={box} className="log-view" onScroll={onScroll} tabIndex={0} role="log" aria-label="Task log" data-lines={count}>
      <div className="log-space" style={{ height: total }}>
        {rows}
      </div>
    </div>
  );
}
