// Routes (hash-based: the server serves one index.html, and links survive a reload). Pages live in
// pages/; the shell (navigation, theme switch, logout) in components/Shell.tsx.
import { Center, Loader } from '@mantine/core';
import { HashRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { Shell } from './components/Shell';
import { BrowserPage } from './pages/Browser';
import { BucketSettingsPage } from './pages/BucketSettings';
import { BucketsPage } from './pages/Buckets';
import { DashboardPage } from './pages/Dashboard';
import { IdentityPage } from './pages/Identity';
import { LoginPage } from './pages/Login';
import { SessionProvider, useSession } from './session';

function Guarded() {
  const { info } = useSession();
  const location = useLocation();
  if (info === undefined) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (info === null) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return (
    <Shell>
      <Routes>
        <Route path="/" element={<DashboardPage />} />
        <Route path="/buckets" element={<BucketsPage />} />
        <Route path="/buckets/:bucket/settings" element={<BucketSettingsPage />} />
        <Route path="/browse/:bucket/*" element={<BrowserPage />} />
        <Route path="/identity/*" element={<IdentityPage />} />
        <Route path="*" element={<Navigate to="/" replace />} />
      </Routes>
    </Shell>
  );
}

export function App() {
  return (
    <SessionProvider>
      <HashRouter>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route path="/*" element={<Guarded />} />
        </Routes>
      </HashRouter>
    </SessionProvider>
  );
}
