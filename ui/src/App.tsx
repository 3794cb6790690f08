import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { useAuth } from './auth/auth.tsx';
import { Layout } from './components/layout.tsx';
import { Loading } from './components/states.tsx';
import { ApiDocsPage } from './pages/api-docs-page.tsx';
import { DagEditorPage } from './pages/dag-editor-page.tsx';
import { DagPage } from './pages/dag-page.tsx';
import { GangPage } from './pages/gang-page.tsx';
import { DagsPage } from './pages/dags-page.tsx';
import { QueuesPage } from './pages/queues-page.tsx';
import { DashboardPage } from './pages/dashboard-page.tsx';
import { DeadLettersPage } from './pages/dead-letters-page.tsx';
import { LoginPage, RegisterPage } from './pages/auth-pages.tsx';
import { NotFoundPage } from './pages/not-found-page.tsx';
import { SubmitTaskPage } from './pages/submit-task-page.tsx';
import { TaskPage } from './pages/task-page.tsx';
import { TasksPage } from './pages/tasks-page.tsx';
import { AuditPage } from './pages/audit-page.tsx';
import { UsersPage } from './pages/users-page.tsx';
import { WorkerPage } from './pages/worker-page.tsx';
import { WorkersPage } from './pages/workers-page.tsx';

/** Pages behind login: without a session, go to /login and come back afterwards. */
function Protected() {
  const { token, user, checking } = useAuth();
  const location = useLocation();
  if (!token) return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
  if (checking || !user) return <Loading what="Checking your session" />;
  return <Layout />;
}

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/register" element={<RegisterPage />} />
      {/* the REST API reference, public like GET /api/openapi.json (the master redirects /api/docs here) */}
      <Route path="/docs" element={<ApiDocsPage />} />
      <Route element={<Protected />}>
        <Route index element={<DashboardPage />} />
        <Route path="/workers" element={<WorkersPage />} />
        <Route path="/workers/:id" element={<WorkerPage />} />
        <Route path="/tasks" element={<TasksPage />} />
        <Route path="/tasks/new" element={<SubmitTaskPage />} />
        <Route path="/tasks/:id" element={<TaskPage />} />
        <Route path="/dead-letters" element={<DeadLettersPage />} />
        <Route path="/queues" element={<QueuesPage />} />
        <Route path="/dags" element={<DagsPage />} />
        <Route path="/dags/new" element={<DagEditorPage />} />
        <Route path="/dags/:id" element={<DagPage />} />
        <Route path="/gangs/:id" element={<GangPage />} />
        <Route path="/users" element={<UsersPage />} />
        <Route path="/audit" element={<AuditPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
