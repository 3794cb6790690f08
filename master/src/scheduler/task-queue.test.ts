import { describe, expect, it } from 'vitest';
import { TaskQueue, type QueuedTask } from './task-queue.js';

const task = (id: string, priority: number, seq: number): QueuedTask => ({ id, priority, seq });
const ids = (queue: TaskQueue<QueuedTask>) => [...queue.ordered()].map((t) => t.id);

describe('TaskQueue', () => {
  it('orders by priority, highest first, then first in first out', () => {
    const queue = new TaskQueue<QueuedTask>();
    queue.enqueue(task('low', 10, 1));
    queue.enqueue(task('mid-1', 50, 2));
    queue.enqueue(task('high', 90, 3));
    queue.enqueue(task('mid-2', 50, 4));
    expect(ids(queue)).toEqual(['high', 'mid-1', 'mid-2', 'low']);
    expect(queue.positionOf('mid-2')).toBe(3);
  });

  it('puts a re-queued task back at its original place', () => {
    const queue = new TaskQueue<QueuedTask>();
    queue.enqueue(task('a', 50, 1));
    queue.enqueue(task('b', 50, 2));
    queue.enqueue(task('c', 50, 3));
    queue.remove('a');
    queue.enqueue(task('d', 50, 4));
    queue.enqueue(task('a', 50, 1));
    expect(ids(queue)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('removes tasks and ignores duplicates', () => {
    const queue = new TaskQueue<QueuedTask>();
    for (let i = 0; i < 10; i += 1) queue.enqueue(task(`t${i}`, 50, i));
    queue.enqueue(task('t3', 50, 3));
    expect(queue.size).toBe(10);
    for (let i = 0; i < 8; i += 1) queue.remove(`t${i}`);
    expect(ids(queue)).toEqual(['t8', 't9']);
    expect(queue.remove('t0')).toBeUndefined();
    queue.remove('t8');
    queue.remove('t9');
    expect(queue.size).toBe(0);
    expect(ids(queue)).toEqual([]);
  });
});
