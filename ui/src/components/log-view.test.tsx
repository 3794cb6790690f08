import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { LogBuffer } from '../live/log-buffer.ts';
import { LogView, ROW_HEIGHT } from './log-view.tsx';

afterEach(cleanup);

function Harness({ buffer, initialFollow = true }: { buffer: LogBuffer; initialFollow?: boolean }) {
  const [follow, setFollow] = useState(initialFollow);
  return (
    <>
      <span data-testid="follow">{String(follow)}</span>
      <LogView lines={buffer.lines} count={buffer.length} version={buffer.length} follow={follow} onFollowChange={setFollow} />
    </>
  );
}

function bigBuffer(lines: number): LogBuffer {
  const buffer = new LogBuffer();
  const chunk: string[] = [];
  for (let i = 1; i <= lines; i += 1) {
    chunk.push(`line ${i}`);
    if (chunk.length === 1000) {
      buffer.append('a1', 1, i % 2000 === 0 ? 'stderr' : 'stdout', `${chunk.join('\n')}\n`);
      chunk.length = 0;
    }
  }
  return buffer;
}

describe('LogView', () => {
  it('keeps only the rows in view in the DOM for 100,000 lines, and follows the end', () => {
    const buffer = bigBuffer(100_000);
    const started = performance.now();
    const { container } = render(<Harness buffer={buffer} />);
    const rows = container.querySelectorAll('.log-row');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(100);
    // following: the last line is among the rendered rows
    expect(container.querySelector('[data-line="100000"]')?.textContent).toContain('line 100000');
    expect(performance.now() - started).toBeLessThan(2000);
    const space = container.querySelector('.log-space') as HTMLElement;
    // the lines and the separator that starts attempt 1
    expect(space.style.height).toBe(`${100_001 * ROW_HEIGHT}px`);
  });

  it('shows the middle of the log when scrolled there and stops following', () => {
    const buffer = bigBuffer(100_000);
    const { container } = render(<Harness buffer={buffer} />);
    const view = screen.getByRole('log');
    Object.defineProperty(view, 'clientHeight', { configurable: true, value: 400 });
    Object.defineProperty(view, 'scrollHeight', { configurable: true, value: 100_000 * ROW_HEIGHT });
    act(() => {
      view.scrollTop = 50_000 * ROW_HEIGHT;
      fireEvent.scroll(view);
    });
    expect(container.querySelector('[data-line="50001"]')?.textContent).toContain('line 50001');
    expect(container.querySelector('[data-line="100000"]')).toBeNull();
    expect(container.querySelectorAll('.log-row').length).toBeLessThan(100);
    expect(screen.getByTestId('follow').textContent).toBe('false');
  });

  it('tells stderr and system lines apart from stdout', () => {
    const buffer = new LogBuffer();
    buffer.append('a1', 1, 'stdout', 'out\n');
    buffer.append('a1', 1, 'stderr', 'bad\n');
    buffer.append('a2', 2, 'stdout', 'again\n');
    const { container } = render(<Harness buffer={buffer} />);
    const classes = [...container.querySelectorAll('.log-row')].map((row) => [row.className, row.querySelector('.log-text')?.textContent]);
    expect(classes).toEqual([
      ['log-row log-separator', undefined],
      ['log-row log-stdout', 'out'],
      ['log-row log-stderr', 'bad'],
      ['log-row log-separator', undefined],
      ['log-row log-stdout', 'again'],
    ]);
    expect([...container.querySelectorAll('.log-separator')].map((row) => row.textContent)).toEqual(['── attempt 1 ──', '── attempt 2 ──']);
  });
});
