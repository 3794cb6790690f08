// Loading, empty and error states, the same on every page.
import type { ReactNode } from 'react';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {what}…
    </div>
  );
}

export function ErrorBox({ error, retry }: { error: Error | string; retry?: () => void }) {
  const message = typeof error === 'string' ? error : error.message;
  return (
    <div className="state state-error" role="alert">
      <span>{message}</span>
      {retry && (
        <button type="button" className="btn btn-small" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

export function LiveIndicator({ state, problem }: { state: string; problem: string | null }) {
  const label = state === 'open' ? 'Live' : state === 'closed' ? 'Not live' : state === 'connecting' ? 'Connecting' : 'Reconnecting';
  return (
    <span className={`live live-${state}`} title={problem ?? undefined} aria-live="polite">
      <span className="live-dot" aria-hidden="true" />
      {label}
      {problem && state !== 'open' ? <span className="sr-only">: {problem}</span> : null}
    </span>
  );
}
