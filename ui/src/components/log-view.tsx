// A windowed log list: only the rows in view (plus a few) are in the DOM, so 100,000 lines
// scroll as smoothly as 100. Unwrapped rows have a fixed height and long lines scroll sideways;
// wrapped, a row is as many rows high as its text needs at the box's width (the font is
// monospace, so that is known without measuring each row). follow = keep the newest line in
// view; scrolling up turns it off (like `less +F`). `view` shows some rows only (a stream or
// attempt filter); `current` is scrolled into view and marked (a search match).
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { LogLine } from '../live/log-buffer.ts';

export const ROW_HEIGHT = 20;
const OVERSCAN = 20;
const DEFAULT_HEIGHT = 480;
const DEFAULT_WIDTH = 900;
/** a character of the log font, when the page cannot measure one (tests) */
const DEFAULT_CHAR_PX = 7.5;

/** "12:03:04.120" of an ISO time, in UTC like the rest of the page's times. */
function clock(ts: string | undefined): string {
  return ts ? ts.slice(11, 23) : '';
}

/** The first index whose offset is past `y` (offsets ascending). */
function rowAt(offsets: Float64Array, y: number): number {
  let low = 0;
  let high = offsets.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (offsets[mid]! <= y) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Where `row` (a buffer index) sits in `view` (ascending), or -1. */
export function indexInView(view: readonly number[], row: number): number {
  let low = 0;
  let high = view.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const value = view[mid]!;
    if (value === row) return mid;
    if (value < row) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}

export function LogView({
  lines,
  count,
  view,
  version,
  follow,
  onFollowChange,
  wrap = false,
  timestamps = false,
  current,
  matches,
  separatorText = (attempt) => `attempt ${attempt}`,
}: {
  lines: readonly LogLine[];
  /** how many of `lines` to show (less than lines.length while paused) */
  count: number;
  /** the rows to show (buffer indexes, ascending); absent: the first `count` */
  view?: readonly number[] | undefined;
  /** changes whenever lines were added */
  version: number;
  follow: boolean;
  onFollowChange: (follow: boolean) => void;
  wrap?: boolean;
  timestamps?: boolean;
  /** the buffer index of the current search match: scrolled into view and marked */
  current?: number | undefined;
  /** buffer indexes of every search match (marked) */
  matches?: ReadonlySet<number> | undefined;
  /** the text of an attempt's separator row */
  separatorText?: (attempt: number) => string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const probe = useRef<HTMLSpanElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(DEFAULT_HEIGHT);
  const [width, setWidth] = useState(DEFAULT_WIDTH);
  const [charPx, setCharPx] = useState(DEFAULT_CHAR_PX);
  const shown = view ? view.length : count;
  const rowIndex = useCallback((i: number) => (view ? view[i]! : i), [view]);
  const digits = String(Math.max(1, shown)).length;
  // the gutter in characters: number, stream tag, time, padding
  const gutterChars = digits + 1 + 5.5 + (timestamps ? 13 : 0) + 2;

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const measure = () => {
      setHeight(element.clientHeight || DEFAULT_HEIGHT);
      setWidth(element.clientWidth || DEFAULT_WIDTH);
      const px = probe.current?.getBoundingClientRect().width ?? 0;
      if (px > 0) setCharPx(px / 10);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  // wrapped: each row's top, from the rows' lengths at the box's width in characters
  const offsets = useMemo(() => {
    if (!wrap) return undefined;
    const columns = Math.max(10, Math.floor(width / charPx - gutterChars));
    const result = new Float64Array(shown + 1);
    for (let i = 0; i < shown; i += 1) {
      const length = lines[rowIndex(i)]?.text.length ?? 0;
      result[i + 1] = result[i]! + Math.max(1, Math.ceil(length / columns)) * ROW_HEIGHT;
    }
    return result;
    // version: the buffer grew (its array is the same object)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [wrap, width, charPx, gutterChars, shown, lines, rowIndex, version]);
  const top = (i: number) => (offsets ? offsets[i]! : i * ROW_HEIGHT);
  const total = top(shown);

  // follow: stick to the bottom whenever lines arrive
  useLayoutEffect(() => {
    const element = box.current;
    if (!element || !follow) return;
    const bottom = Math.max(0, total - element.clientHeight);
    element.scrollTop = bottom;
    setScrollTop(element.scrollTop || bottom);
  }, [follow, total, version]);

  // a new current match: scroll it into view (a third down the box), follow off
  const currentIndex = current === undefined ? -1 : view ? indexInView(view, current) : current < shown ? current : -1;
  useLayoutEffect(() => {
    const element = box.current;
    if (!element || currentIndex < 0) return;
    const y = Math.max(0, top(currentIndex) - Math.floor((element.clientHeight || height) / 3));
    element.scrollTop = y;
    setScrollTop(y);
    onFollowChange(false);
    // only when the match changes, not when lines arrive
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [current, currentIndex]);

  const onScroll = useCallback(() => {
    const element = box.current;
    if (!element) return;
    setScrollTop(element.scrollTop);
    const atBottom = element.scrollTop + element.clientHeight >= element.scrollHeight - ROW_HEIGHT * 1.5;
    if (follow && !atBottom) onFollowChange(false);
    else if (!follow && atBottom && element.scrollTop > 0) onFollowChange(true);
  }, [follow, onFollowChange]);

  const first = Math.max(0, (offsets ? rowAt(offsets, scrollTop) : Math.floor(scrollTop / ROW_HEIGHT)) - OVERSCAN);
  const last = Math.min(shown, (offsets ? rowAt(offsets, scrollTop + height) + 1 : Math.ceil((scrollTop + height) / ROW_HEIGHT)) + OVERSCAN);
  const rows = [];
  for (let index = first; index < last; index += 1) {
    const row = rowIndex(index);
    const line = lines[row];
    if (!line) continue;
    const style = { top: top(index), ...(offsets ? { height: offsets[index + 1]! - offsets[index]! } : {}) };
    if (line.separator) {
      rows.push(
        <div key={`s${row}`} className="log-row log-separator" style={style} data-attempt={line.attempt} role="separator">
          ── {separatorText(line.attempt)} ──
        </div>,
      );
      continue;
    }
    const marked = matches?.has(row) ?? false;
    const isCurrent = current === row;
    rows.push(
      <div
        key={row}
        className={`log-row log-${line.stream}${marked ? ' log-match' : ''}${isCurrent ? ' log-current' : ''}`}
        style={style}
        data-line={line.n || undefined}
        data-attempt={line.attempt}
        {...(isCurrent ? { 'aria-current': 'true' as const } : {})}
      >
        <span className="log-no" style={{ width: `${digits + 1}ch` }}>
          {line.n || ''}
        </span>
        {timestamps ? (
          <span className="log-ts" title={line.ts ?? 'time not recorded'}>
            {clock(line.ts)}
          </span>
        ) : null}
        <span className="log-tag" aria-label={line.stream}>
          {line.stream === 'stderr' ? 'err' : line.stream === 'system' ? 'sys' : ''}
        </span>
        <span className="log-text">{line.text}</span>
      </div>,
    );
  }
  return (
    <div
      ref={box}
      className={`log-view${wrap ? ' log-wrap' : ''}`}
      onScroll={onScroll}
      tabIndex={0}
      role="log"
      aria-label="Task log"
      data-lines={shown}
    >
      <span ref={probe} className="log-probe" aria-hidden="true">
        0123456789
      </span>
      <div className="log-space" style={{ height: total }}>
        {rows}
      </div>
    </div>
  );
}
