import { Link, useLocation } from 'react-router-dom';

export function NotFoundPage() {
  const location = useLocation();
  return (
    <section className="page">
      <h1>Page not found</h1>
      <p className="muted">
        There is no page at <code>{location.pathname}</code>.
      </p>
      <p>
        <Link to="/">Back to the dashboard</Link>
      </p>
    </section>
  );
}
