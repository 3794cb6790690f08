import { useEffect, useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth/auth.tsx';

interface Leadership {
  role: 'leader' | 'standby';
  epoch: number | null;
  leader: string | null;
  leaderUrl: string | null;
}

/** Several masters: which one this page talks to, and who leads (GET /health, every 10 s). */
function LeaderBadge() {
  const [health, setHealth] = useState<Leadership | undefined>();
  useEffect(() => {
    let gone = false;
    const load = () => {
      fetch('/health')
        .then((response) => (response.ok ? (response.json() as Promise<Partial<Leadership>>) : undefined))
        .then((body) => {
          if (!gone && body && (body.role === 'leader' || body.role === 'standby')) setHealth(body as Leadership);
        })
        .catch(() => undefined);
    };
    load();
    const timer = setInterval(load, 10_000);
    return () => {
      gone = true;
      clearInterval(timer);
    };
  }, []);
  // one master alone (epoch 1 and leading) needs no badge
  if (!health || (health.role === 'leader' && (health.epoch ?? 1) <= 1)) return null;
  const text = health.role === 'leader' ? 'leader' : `standby · leader ${health.leader ?? 'unknown'}`;
  return (
    <span className="role" data-testid="leader-badge" title={`lease epoch ${health.epoch ?? '-'}${health.leaderUrl ? ` · ${health.leaderUrl}` : ''}`}>
      {text}
    </span>
  );
}

export function Layout() {
  const { user, signOut } = useAuth();
  const navigate = useNavigate();
  return (
    <div className="app">
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="Wharf dashboard">
          <svg width="22" height="22" viewBox="0 0 16 16" aria-hidden="true">
            <rect width="16" height="16" rx="3" className="brand-mark" />
            <path d="M3 11h10M5 11V6h6v5" stroke="white" strokeWidth="1.5" fill="none" />
          </svg>
          Wharf
        </NavLink>
        <nav className="nav" aria-label="Main">
          <NavLink to="/" end>
            Dashboard
          </NavLink>
          <NavLink to="/workers">Workers</NavLink>
          <NavLink to="/tasks" end>
            Tasks
          </NavLink>
          <NavLink to="/dead-letters">Dead letters</NavLink>
          <NavLink to="/queues">Queues</NavLink>
          <NavLink to="/dags">DAGs</NavLink>
          {user?.role === 'admin' ? (
            <>
              <NavLink to="/users">Users</NavLink>
              <NavLink to="/audit">Audit</NavLink>
            </>
          ) : null}
          <NavLink to="/tasks/new" className="nav-submit">
            Submit task
          </NavLink>
        </nav>
        <div className="who">
          <LeaderBadge />
          <span className="who-name" title={user?.email}>
            {user?.email}
          </span>
          {user?.role === 'admin' ? <span className="role">admin</span> : null}
          <button
            type="button"
            className="btn btn-small btn-ghost"
            onClick={() => {
              void signOut().then(() => navigate('/login'));
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <main className="main">
        <Outlet />
      </main>
    </div>
  );
}
