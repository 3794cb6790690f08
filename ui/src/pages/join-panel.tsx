// For admins on the Workers page: the lines that join a worker — the one-line join for a machine
// with no clone (curl … /join.sh | sh, pinned to the master's HTTPS key) and the runWorker.sh
// line for a clone, both with the CA hash the worker pins — and the join tokens: create one with
// an expiry and a use limit (its secret is shown once, with the one-line join ready to paste),
// see each one's state and uses, revoke one.
import { useState, type FormEvent } from 'react';
import { ApiError, fieldErrors } from '../api/client.ts';
import { formatTime } from '../api/format.ts';
import type { ClusterJoin, JoinToken, OneLineJoin } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { Field } from '../components/field.tsx';
import { Empty, ErrorBox, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';


export function JoinPanel() {
  const { api } = useAuth();
  const join = useResource((signal) => api.get<ClusterJoin>('/api/cluster/join', signal), [api]);
  const tokens = useResource((signal) => api.get<{ tokens: JoinToken[] }>('/api/join-tokens', signal).then((r) => r.tokens), [api]);
  const [description, setDescription] = useState('');
  const [expiresIn, setExpiresIn] = useState('24h');
  const [uses, setUses] = useState('');
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<{ fields: Record<string, string>; rest: string[] } | null>(null);
  const [created, setCreated] = useState<{ token: JoinToken; secret: string; oneLineCommand?: string | null } | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFormError(null);
    try {
      const body: Record<string, unknown> = {};
      if (description.trim()) body.description = description.trim();
      if (expiresIn.trim()) body.expiresIn = expiresIn.trim();
      if (uses.trim()) body.usageLimit = Number(uses.trim());
      const answer = await api.post<{ token: JoinToken; secret: string; oneLineCommand?: string | null }>('/api/join-tokens', body);
      setCreated(answer);
      setDescription('');
      tokens.reload();
    } catch (failure: unknown) {
      setFormError(failure instanceof ApiError ? fieldErrors(failure.message) : { fields: {}, rest: [String(failure)] });
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (id: string) => {
    setActionError(null);
    try {
      await api.delete(`/api/join-tokens/${encodeURIComponent(id)}`);
      tokens.reload();
    } catch (failure: unknown) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  return (
    <>
      <div className="card join-card">
        <h2 className="card-title">Join a worker</h2>
        {join.data ? (
          <>
            {join.data.oneLine ? <OneLine oneLine={join.data.oneLine} /> : null}
            <p className="muted small">
              {join.data.oneLine ? 'From a clone of the repository' : 'On the new machine'}, with a join token in a file (below). The
              worker checks this master by its CA hash, then keeps a certificate of its own; the token is needed only this once.
            </p>
            <div className="join-line">
              <code className="mono" data-testid="join-command">
                {join.data.command}
              </code>
              <CopyButton text={join.data.command} />
            </div>
            <p className="muted small">
              CA hash <span className="mono">{join.data.caHash}</span> · workers dial <span className="mono">{join.data.grpcAddress}</span>
            </p>
          </>
        ) : join.error ? (
          <ErrorBox error={join.error} retry={join.reload} />
        ) : (
          <Loading what="Loading the join line" />
        )}
      </div>

      <div className="card">
        <h2 className="card-title">Join tokens</h2>
        <form className="token-form" onSubmit={(event) => void create(event)} noValidate>
          <Field label="Description" className="field-grow" error={formError?.fields.description}>
            {(props) => <input {...props} value={description} maxLength={200} placeholder="rack 4" onChange={(e) => setDescription(e.target.value)} />}
          </Field>
          <Field label="Expires in" hint="30m, 24h, 7d; empty: never" error={formError?.fields.expiresIn}>
            {(props) => <input {...props} value={expiresIn} onChange={(e) => setExpiresIn(e.target.value)} />}
          </Field>
          <Field label="Uses" hint="empty: any number" error={formError?.fields.usageLimit}>
            {(props) => <input {...props} type="number" min={1} value={uses} onChange={(e) => setUses(e.target.value)} />}
          </Field>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Create token
          </button>
        </form>
        {formError && formError.rest.length > 0 ? <p className="form-error">{formError.rest.join('; ')}</p> : null}
        {created ? (
          <div className="notice secret" role="status" data-testid="new-token">
            <p>
              Token <span className="mono">{created.token.id}</span> — its secret is shown this once:
            </p>
            <div className="join-line">
              <code className="mono" data-testid="new-token-secret">
                {created.secret}
              </code>
              <CopyButton text={created.secret} />
            </div>
            {created.oneLineCommand ? (
              <>
                <p className="small">Join a machine with no clone with it (Node ≥ 20.19 and curl there):</p>
                <div className="join-line">
                  <code className="mono" data-testid="new-token-one-line">
                    {created.oneLineCommand}
                  </code>
                  <CopyButton text={created.oneLineCommand} />
                </div>
              </>
            ) : null}
            <p className="small">Or save it in a file (mode 600) on the new machine and pass that file with --token-file.</p>
            <button type="button" className="btn btn-small" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        ) : null}
        {actionError ? <ErrorBox error={actionError} /> : null}
        {!tokens.data ? (
          tokens.error ? (
            <ErrorBox error={tokens.error} retry={tokens.reload} />
          ) : (
            <Loading what="Loading join tokens" />
          )
        ) : tokens.data.length === 0 ? (
          <Empty>No join tokens.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table tokens-table">
              <thead>
                <tr>
                  <th>Token</th>
                  <th>State</th>
                  <th>Uses</th>
                  <th className="hide-sm">Expires</th>
                  <th className="hide-sm">Created by</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {tokens.data.map((token) => (
                  <tr key={token.id} data-token={token.id}>
                    <td>
                      <span className="mono">{token.id}</span>
                      <div className="muted small">{token.startToken ? 'start token' : token.description || '–'}</div>
                    </td>
                    <td>
                      <StatusBadge status={token.state} />
                    </td>
                    <td>
                      {token.uses}
                      {token.usageLimit === null ? '' : ` / ${token.usageLimit}`}
                    </td>
                    <td className="hide-sm nowrap">{token.expiresAt ? formatTime(token.expiresAt) : 'never'}</td>
                    <td className="hide-sm">{token.createdBy}</td>
                    <td>
                      {token.state !== 'revoked' ? (
                        <button type="button" className="btn btn-small btn-danger" onClick={() => void revoke(token.id)}>
                          Revoke
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </>
  );
}

/** The one-line join: the line with a copy button, or why this master cannot offer it. */
function OneLine({ oneLine }: { oneLine: OneLineJoin }) {
  if (!oneLine.available || !oneLine.command) {
    return (
      <p className="muted small" data-testid="one-line-unavailable">
        No one-line join: {oneLine.warning ?? 'this master has no worker bundle to serve'}.
      </p>
    );
  }
  return (
    <>
      <p className="muted small">
        On a machine with no clone (it needs Node ≥ 20.19 and curl), with a join token (below) in place of{' '}
        <span className="mono">&lt;join token&gt;</span>. curl accepts only this master&apos;s HTTPS key, and the script runs the
        worker only if its sha256 is the one announced; add <span className="mono">--install-service</span> (as root) to keep it
        running as a systemd service.
      </p>
      <div className="join-line">
        <code className="mono" data-testid="one-line-command">
          {oneLine.command}
        </code>
        <CopyButton text={oneLine.command} />
      </div>
      {oneLine.warning ? (
        <p className="form-error small" data-testid="one-line-warning">
          {oneLine.warning}
        </p>
      ) : null}
    </>
  );
}
