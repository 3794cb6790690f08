// A worker as people know it: its name, linking to its page, with its id on hover and a button
// that copies the id. The name is the one the API gave with the record (a task's or an attempt's
// workerName, kept after the worker is gone); without one the id stands in, shortened.
import { Link } from 'react-router-dom';
import { CopyButton } from './copy-button.tsx';

/** The first part of a worker id (ids are UUIDs), for when no name is known. */
export function shortWorkerId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

export function WorkerName({ id, name, link = true, copy = true }: { id: string | null | undefined; name?: string | null | undefined; link?: boolean; copy?: boolean }) {
  if (!id) return <span className="muted">–</span>;
  const shown = name || shortWorkerId(id);
  const title = `worker id ${id}`;
  return (
    <span className="worker-name" data-worker-id={id}>
      {link ? (
        <Link to={`/workers/${encodeURIComponent(id)}`} title={title}>
          {shown}
        </Link>
      ) : (
        <span title={title}>{shown}</span>
      )}
      {copy ? <CopyButton text={id} label="Copy id" ariaLabel={`Copy id of worker ${shown}`} className="btn-icon" /> : null}
    </span>
  );
}
