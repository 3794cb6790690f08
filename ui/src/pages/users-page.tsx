// For admins: every account (role, state), with a role switch, Disable / Enable and Delete (after
// a confirmation that says what deleting does); inviting an address (the one-time link is shown
// once, with a copy button) and the invites with their state (open ones can be revoked).
import { useState, type FormEvent } from 'react';
import { ApiError, fieldErrors } from '../api/client.ts';
import { formatTime } from '../api/format.ts';
import type { Invite, Role, User } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { Field } from '../components/field.tsx';
import { Empty, ErrorBox, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';

export function UsersPage() {
  const { api, user: me } = useAuth();
  const users = useResource((signal) => api.get<{ users: User[] }>('/api/users', signal).then((r) => r.users), [api]);
  const invites = useResource((signal) => api.get<{ invites: Invite[] }>('/api/users/invites', signal).then((r) => r.invites), [api]);
  const [actionError, setActionError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  if (me?.role !== 'admin') return <ErrorBox error="Only admins manage users." />;

  const act = async (what: () => Promise<unknown>, done?: string) => {
    setActionError(null);
    setNotice(null);
    try {
      await what();
      if (done) setNotice(done);
      users.reload();
    } catch (failure: unknown) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  const patch = (user: User, body: { role?: Role; disabled?: boolean }) => act(() => api.request('PATCH', `/api/users/${encodeURIComponent(user.id)}`, body));
  const remove = (user: User) =>
    act(async () => {
      const answer = await api.delete<{ cancelled: { tasks: number; dags: number }; apiTokensRevoked: number }>(`/api/users/${encodeURIComponent(user.id)}`);
      setConfirming(null);
      setNotice(
        `${user.email} was deleted: ${answer.cancelled.tasks} unfinished task(s) and ${answer.cancelled.dags} DAG run(s) cancelled, ${answer.apiTokensRevoked} API token(s) revoked. Their tasks and files are kept.`,
      );
    });

  return (
    <section className="page">
      <header className="page-head">
        <h1>Users</h1>
      </header>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      {actionError ? (
        <p className="form-error" role="alert">
          {actionError}
        </p>
      ) : null}
      <div className="card">
        {users.error ? (
          <ErrorBox error={users.error} retry={users.reload} />
        ) : !users.data ? (
          <Loading what="Loading users" />
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label="Users">
              <thead>
                <tr>
                  <th>Email</th>
                  <th>Name</th>
                  <th>Role</th>
                  <th>State</th>
                  <th>Created</th>
                  <th aria-label="Actions" />
                </tr>
              </thead>
              <tbody>
                {users.data.map((user) => (
                  <tr key={user.id} data-testid={`user-${user.email}`}>
                    <td>{user.email}</td>
                    <td>{user.name}</td>
                    <td>
                      <select
                        aria-label={`Role of ${user.email}`}
                        value={user.role}
                        onChange={(e) => void patch(user, { role: e.target.value as Role })}
                      >
                        <option value="user">user</option>
                        <option value="admin">admin</option>
                      </select>
                    </td>
                    <td>{user.disabled ? <StatusBadge status="disabled" /> : <span className="muted">enabled</span>}</td>
                    <td className="muted">{formatTime(user.createdAt)}</td>
                    <td className="actions">
                      {confirming === user.id ? (
                        <span role="group" aria-label={`Confirm deleting ${user.email}`}>
                          <span className="small">Delete {user.email}? Their unfinished tasks and DAG runs are cancelled and their API tokens revoked.</span>{' '}
                          <button type="button" className="btn btn-small btn-danger" onClick={() => void remove(user)}>
                            Delete
                          </button>{' '}
                          <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirming(null)}>
                            Keep
                          </button>
                        </span>
                      ) : (
                        <>
                          <button type="button" className="btn btn-small" onClick={() => void patch(user, { disabled: !user.disabled })}>
                            {user.disabled ? 'Enable' : 'Disable'}
                          </button>{' '}
                          <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirming(user.id)} aria-label={`Delete ${user.email}`}>
                            Delete
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <InvitePanel invites={invites.data} error={invites.error} reload={invites.reload} />
    </section>
  );
}

function InvitePanel({ invites, error, reload }: { invites: Invite[] | undefined; error: Error | undefined; reload: () => void }) {
  const { api } = useAuth();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('user');
  const [expiresIn, setExpiresIn] = useState('7d');
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<{ fields: Record<string, string>; rest: string[] } | null>(null);
  const [created, setCreated] = useState<{ invite: Invite; link: string } | null>(null);
  const [revokeError, setRevokeError] = useState<string | null>(null);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFormError(null);
    try {
      const answer = await api.post<{ invite: Invite; code: string; link: string }>('/api/users/invites', {
        email: email.trim(),
        role,
        ...(expiresIn.trim() ? { expiresIn: expiresIn.trim() } : {}),
      });
      setCreated({ invite: answer.invite, link: answer.link });
      setEmail('');
      reload();
    } catch (failure: unknown) {
      setFormError(failure instanceof ApiError ? fieldErrors(failure.message) : { fields: {}, rest: [String(failure)] });
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (id: string) => {
    setRevokeError(null);
    try {
      await api.delete(`/api/users/invites/${encodeURIComponent(id)}`);
      reload();
    } catch (failure: unknown) {
      setRevokeError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  return (
    <div className="card">
      <h2 className="card-title">Invite someone</h2>
      <form className="token-form" onSubmit={create} noValidate aria-label="Invite">
        <Field label="Email" error={formError?.fields.email}>
          {(props) => <input {...props} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Field label="Role" error={formError?.fields.role}>
          {(props) => (
            <select {...props} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              <option value="user">user</option>
              <option value="admin">admin</option>
            </select>
          )}
        </Field>
        <Field label="Expires in" error={formError?.fields.expiresIn} hint="e.g. 24h or 7d (at most 90d)">
          {(props) => <input {...props} type="text" value={expiresIn} onChange={(e) => setExpiresIn(e.target.value)} />}
        </Field>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Inviting…' : 'Invite'}
        </button>
      </form>
      {formError && formError.rest.length > 0 ? (
        <p className="form-error" role="alert">
          {formError.rest.join('; ')}
        </p>
      ) : null}
      {created ? (
        <div className="notice secret" role="status" data-testid="new-invite">
          <p>
            Send this link to {created.invite.email} privately; it is shown only now and registers that address once, until{' '}
            {formatTime(created.invite.expiresAt)}.
          </p>
          <div className="join-line">
            <code className="mono" data-testid="invite-link">
              {created.link}
            </code>
            <CopyButton text={created.link} />
          </div>
        </div>
      ) : null}
      {revokeError ? (
        <p className="form-error" role="alert">
          {revokeError}
        </p>
      ) : null}
      {error ? (
        <ErrorBox error={error} retry={reload} />
      ) : !invites ? (
        <Loading what="Loading invites" />
      ) : invites.length === 0 ? (
        <Empty>No invites yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Invites">
            <thead>
              <tr>
                <th>Email</th>
                <th>Role</th>
                <th>State</th>
                <th>Expires</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {invites.map((invite) => (
                <tr key={invite.id}>
                  <td>{invite.email}</td>
                  <td>{invite.role}</td>
                  <td>
                    <StatusBadge status={invite.state} />
                  </td>
                  <td className="muted">{formatTime(invite.expiresAt)}</td>
                  <td className="actions">
                    {invite.state === 'open' ? (
                      <button type="button" className="btn btn-small btn-ghost" onClick={() => void revoke(invite.id)} aria-label={`Revoke the invite for ${invite.email}`}>
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
  );
}
