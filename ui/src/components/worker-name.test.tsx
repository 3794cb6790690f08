import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { shortWorkerId, WorkerName } from './worker-name.tsx';

afterEach(cleanup);

describe('WorkerName', () => {
  it('shows the name linking to the worker, the id on hover, and copies the id', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    render(
      <MemoryRouter>
        <WorkerName id="6f1c2d3e-aaaa-bbbb-cccc-1234567890ab" name="gpu-box" />
      </MemoryRouter>,
    );
    const link = screen.getByRole('link', { name: 'gpu-box' });
    expect(link.getAttribute('href')).toBe('/workers/6f1c2d3e-aaaa-bbbb-cccc-1234567890ab');
    expect(link.getAttribute('title')).toBe('worker id 6f1c2d3e-aaaa-bbbb-cccc-1234567890ab');
    fireEvent.click(screen.getByRole('button', { name: 'Copy id of worker gpu-box' }));
    expect(writeText).toHaveBeenCalledWith('6f1c2d3e-aaaa-bbbb-cccc-1234567890ab');
    expect(await screen.findByText('Copied')).toBeTruthy();
  });

  it('stands in a shortened id when no name is known, and a dash when there is no worker', () => {
    expect(shortWorkerId('6f1c2d3e-aaaa-bbbb-cccc-1234567890ab')).toBe('6f1c2d3e…');
    expect(shortWorkerId('w-2')).toBe('w-2');
    render(
      <MemoryRouter>
        <WorkerName id="6f1c2d3e-aaaa-bbbb-cccc-1234567890ab" name={null} copy={false} />
        <WorkerName id={undefined} />
      </MemoryRouter>,
    );
    expect(screen.getByRole('link', { name: '6f1c2d3e…' })).toBeTruthy();
    expect(screen.queryByRole('button')).toBeNull();
    expect(screen.getByText('–')).toBeTruthy();
  });
});
