// A confirmation before an action that cannot be undone (cancel, cancel a run, drain, resubmit).
// A modal dialog: focus moves to it (the safe button first) and stays in it (Tab and Shift+Tab
// wrap), Escape or the backdrop answer "no", and focus goes back where it was when it closes.
// useConfirm() gives a promise-returning ask() and the element to render.
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface ConfirmOptions {
  title: string;
  /** what will happen, in words */
  message?: ReactNode;
  /** the button that does it ("Cancel task") */
  confirmLabel: string;
  /** the button that does nothing (default "Keep it") */
  cancelLabel?: string;
  /** a destructive action: the confirm button is red */
  danger?: boolean;
}

export function ConfirmDialog({ options, onAnswer }: { options: ConfirmOptions; onAnswer: (yes: boolean) => void }) {
  const id = useId();
  const dialog = useRef<HTMLDivElement>(null);
  const safe = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    safe.current?.focus();
    return () => before?.focus();
  }, []);

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onAnswer(false);
      return;
    }
    if (event.key !== 'Tab') return;
    const focusable = [...(dialog.current?.querySelectorAll<HTMLElement>('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])') ?? [])].filter(
      (element) => !element.hasAttribute('disabled'),
    );
    if (focusable.length === 0) return;
    const first = focusable[0]!;
    const last = focusable[focusable.length - 1]!;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onAnswer(false)}>
      <div
        ref={dialog}
        className="dialog card"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        aria-describedby={options.message ? `${id}-message` : undefined}
        onKeyDown={onKeyDown}
      >
        <h2 className="card-title" id={`${id}-title`}>
          {options.title}
        </h2>
        {options.message ? (
          <div className="dialog-message" id={`${id}-message`}>
            {options.message}
          </div>
        ) : null}
        <div className="form-actions">
          <button type="button" className={`btn ${options.danger ? 'btn-danger' : 'btn-primary'}`} onClick={() => onAnswer(true)}>
            {options.confirmLabel}
          </button>
          <button ref={safe} type="button" className="btn btn-ghost" onClick={() => onAnswer(false)}>
            {options.cancelLabel ?? 'Keep it'}
          </button>
        </div>
      </div>
    </div>
  );
}

/** `const [confirmDialog, confirm] = useConfirm();` then `if (await confirm({...})) …` and render `{confirmDialog}`. */
export function useConfirm(): [ReactNode, (options: ConfirmOptions) => Promise<boolean>] {
  const [pending, setPending] = useState<{ options: ConfirmOptions; resolve: (yes: boolean) => void } | null>(null);
  const confirm = useCallback(
    (options: ConfirmOptions) =>
      new Promise<boolean>((resolve) => {
        setPending({ options, resolve });
      }),
    [],
  );
  const element = pending ? (
    <ConfirmDialog
      options={pending.options}
      onAnswer={(yes) => {
        pending.resolve(yes);
        setPending(null);
      }}
    />
  ) : null;
  return [element, confirm];
}
