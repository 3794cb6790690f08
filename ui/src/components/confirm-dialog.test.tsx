import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { useConfirm } from './confirm-dialog.tsx';

afterEach(cleanup);

function Harness() {
  const [dialog, confirm] = useConfirm();
  const [answer, setAnswer] = useState('none');
  return (
    <>
      <button type="button" onClick={() => void confirm({ title: 'Drain w1?', message: 'No new task goes there.', confirmLabel: 'Drain', danger: true }).then((yes) => setAnswer(String(yes)))}>
        Ask
      </button>
      <span data-testid="answer">{answer}</span>
      {dialog}
    </>
  );
}

async function open(): Promise<HTMLElement> {
  const ask = screen.getByRole('button', { name: 'Ask' });
  ask.focus();
  fireEvent.click(ask);
  return screen.findByRole('alertdialog', { name: 'Drain w1?' });
}

describe('ConfirmDialog', () => {
  it('is a labelled modal dialog that takes the focus on its safe button and keeps it inside (Tab wraps both ways)', async () => {
    render(<Harness />);
    const dialog = await open();
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(dialog.getAttribute('aria-describedby')).toBeTruthy();
    expect(document.getElementById(dialog.getAttribute('aria-describedby')!)?.textContent).toBe('No new task goes there.');
    const keep = screen.getByRole('button', { name: 'Keep it' });
    const drain = screen.getByRole('button', { name: 'Drain' });
    expect(document.activeElement).toBe(keep);
    fireEvent.keyDown(keep, { key: 'Tab' });
    expect(document.activeElement).toBe(drain);
    fireEvent.keyDown(drain, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(keep);
  });

  it('Escape answers no and gives the focus back; the confirm button answers yes', async () => {
    render(<Harness />);
    const dialog = await open();
    await act(async () => {
      fireEvent.keyDown(dialog, { key: 'Escape' });
    });
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(screen.getByTestId('answer').textContent).toBe('false');
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Ask' }));
    await open();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Drain' }));
    });
    expect(screen.getByTestId('answer').textContent).toBe('true');
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });

  it('a click on the backdrop answers no', async () => {
    render(<Harness />);
    await open();
    await act(async () => {
      fireEvent.mouseDown(document.querySelector('.dialog-backdrop')!);
    });
    expect(screen.getByTestId('answer').textContent).toBe('false');
  });
});
