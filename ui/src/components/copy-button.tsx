// Copies a text to the clipboard and says so for a moment (the text stays selectable beside it).
import { useEffect, useState } from 'react';

/** `ariaLabel`: what a screen reader hears when the visible label is short (a compact icon-like button). */
export function CopyButton({ text, label = 'Copy', ariaLabel, className }: { text: string; label?: string; ariaLabel?: string; className?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(timer);
  }, [state]);
  const copy = () => {
    // the clipboard needs a secure context (https or localhost); elsewhere the text is still there to select
    const clipboard = typeof navigator !== 'undefined' ? navigator.clipboard : undefined;
    if (!clipboard) {
      setState('failed');
      return;
    }
    clipboard.writeText(text).then(
      () => setState('copied'),
      () => setState('failed'),
    );
  };
  return (
    <button type="button" className={`btn btn-small${className ? ` ${className}` : ''}`} onClick={copy} aria-live="polite" aria-label={state === 'idle' ? ariaLabel : undefined} title={ariaLabel}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : label}
    </button>
  );
}
