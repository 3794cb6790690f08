// Login and Register. The API's messages are shown at the field they concern ("email: …",
// "password: …", wrong credentials at the password). Registering: with an invite link
// (`/register?invite=…`) the page shows the invited address and the account is made with the
// invite; without one (open registration) the master answers the same for a free and a taken
// address, so the page then logs in: only the address's owner gets in.
import { useEffect, useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { ApiError, fieldErrors } from '../api/client.ts';
import type { User } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { Field } from '../components/field.tsx';

type AuthField = 'email' | 'password' | 'name' | 'invite';
type Errors = Partial<Record<AuthField | 'form', string>>;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function checkLocally(mode: 'login' | 'register', email: string, password: string): Errors {
  const errors: Errors = {};
  if (!email.trim()) errors.email = 'is required';
  else if (mode === 'register' && !EMAIL.test(email.trim())) errors.email = 'must be an email address';
  if (!password) errors.password = 'is required';
  else if (mode === 'register' && password.length < 8) errors.password = 'must be at least 8 characters';
  return errors;
}

function errorsFromApi(mode: 'login' | 'register', error: unknown): Errors {
  if (!(error instanceof ApiError)) return { form: String(error) };
  if (error.code === 'conflict') return { email: error.message.replace(/^email: /, '') };
  if (error.code === 'forbidden') return { form: error.message.replace(/^invite: /, '') };
  if (error.code === 'unauthenticated' && mode === 'login') return { password: error.message };
  if (error.code === 'rate_limited') return { form: error.message };
  const { fields, rest } = fieldErrors(error.message);
  const errors: Errors = {};
  for (const [key, message] of Object.entries(fields)) {
    if (key === 'email' || key === 'password' || key === 'name' || key === 'invite') errors[key] = message;
    else rest.push(`${key}: ${message}`);
  }
  if (rest.length > 0) errors.form = rest.join('; ');
  return errors;
}

function AuthPage({ mode }: { mode: 'login' | 'register' }) {
  const { token, user, api, login, ended } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const invite = mode === 'register' ? new URLSearchParams(location.search).get('invite') : null;
  const [invited, setInvited] = useState<{ email: string; role: string } | null>(null);
  const [registration, setRegistration] = useState<string | null>(null);

  // an invite link: show the address it is for; otherwise say when registration needs one
  useEffect(() => {
    if (mode !== 'register') return;
    let live = true;
    if (invite) {
      api.get<{ invite: { email: string; role: string } }>(`/api/auth/invites/${encodeURIComponent(invite)}`).then(
        (answer) => {
          if (!live) return;
          setInvited(answer.invite);
          setEmail(answer.invite.email);
        },
        (error: unknown) => live && setErrors({ form: error instanceof Error ? error.message.replace(/^invite: /, '') : String(error) }),
      );
    } else {
      api.get<{ registration: string }>('/api/auth/config').then(
        (answer) => live && setRegistration(answer.registration),
        () => undefined,
      );
    }
    return () => {
      live = false;
    };
  }, [mode, invite, api]);

  if (token && user) return <Navigate to={from} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local = checkLocally(mode, email, password);
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const credentials = { email: email.trim(), password };
      if (mode === 'register') {
        const body = { ...credentials, ...(name.trim() ? { name: name.trim() } : {}), ...(invite ? { invite } : {}) };
        const answer = await api.post<{ user?: User; token?: string }>('/api/auth/register', body);
        if (answer.token && answer.user) {
          login(answer.token, answer.user);
          navigate(from, { replace: true });
          return;
        }
        // open registration answered "accepted" (the same for a taken address): log in to find out
        try {
          const session = await api.post<{ user: User; token: string }>('/api/auth/login', credentials);
          login(session.token, session.user);
          navigate(from, { replace: true });
        } catch (failure: unknown) {
          if (failure instanceof ApiError && failure.code === 'unauthenticated') {
            setErrors({ form: 'This address and password do not open an account. If the address is already registered, log in with its own password.' });
          } else {
            setErrors(errorsFromApi('login', failure));
          }
        }
        return;
      }
      const answer = await api.post<{ user: User; token: string }>('/api/auth/login', credentials);
      login(answer.token, answer.user);
      navigate(from, { replace: true });
    } catch (error: unknown) {
      setErrors(errorsFromApi(mode, error));
    } finally {
      setBusy(false);
    }
  };

  const title = mode === 'login' ? 'Log in to Wharf' : 'Create your Wharf account';
  return (
    <main className="auth">
      <form className="card auth-card" onSubmit={submit} noValidate aria-labelledby="auth-title">
        <div className="auth-brand" aria-hidden="true">
          <svg width="28" height="28" viewBox="0 0 16 16">
            <rect width="16" height="16" rx="3" className="brand-mark" />
            <path d="M3 11h10M5 11V6h6v5" stroke="white" strokeWidth="1.5" fill="none" />
          </svg>
          Wharf
        </div>
        <h1 id="auth-title">{title}</h1>
        {mode === 'login' && ended === 'expired' ? (
          <p className="notice" role="status">
            Your session has expired. Log in again to continue.
          </p>
        ) : null}
        {mode === 'register' && invited ? (
          <p className="notice" role="status">
            You were invited as {invited.role === 'admin' ? 'an admin' : 'a user'}: set a password for {invited.email}.
          </p>
        ) : null}
        {mode === 'register' && !invite && registration === 'invite' ? (
          <p className="notice" role="status">
            This Wharf registers people by invitation: ask an admin for an invite link.
          </p>
        ) : null}
        {mode === 'register' && !invite && registration === 'closed' ? (
          <p className="notice" role="status">
            Registration is closed on this Wharf: ask an admin for an account.
          </p>
        ) : null}
        {errors.form ? (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        ) : null}
        <Field label="Email" error={errors.email}>
          {(props) => (
            <input
              {...props}
              type="email"
              name="email"
              autoComplete="email"
              value={email}
              readOnly={Boolean(invited)}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        {mode === 'register' ? (
          <Field label="Name (optional)" error={errors.name}>
            {(props) => <input {...props} type="text" name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
        ) : null}
        <Field label="Password" error={errors.password} hint={mode === 'register' ? 'At least 8 characters.' : undefined}>
          {(props) => (
            <input
              {...props}
              type="password"
              name="password"
              autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Please wait…' : mode === 'login' ? 'Log in' : 'Create account'}
        </button>
        <p className="muted auth-switch">
          {mode === 'login' ? (
            <>
              New here? <Link to="/register" state={location.state}>Create an account</Link>
            </>
          ) : (
            <>
              Have an account? <Link to="/login" state={location.state}>Log in</Link>
            </>
          )}
        </p>
      </form>
    </main>
  );
}

export const LoginPage = () => <AuthPage mode="login" />;
export const RegisterPage = () => <AuthPage mode="register" />;
