// Routes (hash-based: the server serves one index.html, and links survive a reload). Pages live in
// pages/; the shell (navigation, theme switch, logout) in components/Shell.tsx. Each page behind the
// login is its own chunk, loaded when first visited: the login page does not wait for the charts
// (uPlot) or the object browser.
import { Center, Loader } from '@mantine/core';
import { lazy, Suspense } from 'react';
import { HashRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { Shell } from './components/Shell';
import { LoginPage } from './pages/Login';
import { SessionProvider, useSession } from './session';

const BrowserPage = lazy(() => import('./pages/Browser').then((m) => ({ default: m.BrowserPage })));
const BucketSettingsPage = lazy(() => import('./pages/BucketSettings').then((m) => ({ default: m.BucketSettingsPage })));
const BucketsPage = lazy(() => import('./pages/Buckets').then((m) => ({ default: m.BucketsPage })));
const DashboardPage = lazy(() => import('./pages/Dashboard').then((m) => ({ default: m.DashboardPage })));
const IdentityPage = lazy(() => import('./pages/Identity').then((m) => ({ default: m.IdentityPage })));

const pageLoading = (
  <Center h="50vh">
    <Loader aria-label="Loading the page" />
  </Center>
);

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
      <Suspense fallback={pageLoading}>
        <Routes>
          <Route path="/" element={<DashboardPage />} />
          <Route path="/buckets" element={<BucketsPage />} />
          <Route path="/buckets/:bucket/settings" element={<BucketSettingsPage />} />
          <Route path="/browse/:bucket/*" element={<BrowserPage />} />
          <Route path="/identity/*" element={<IdentityPage />} />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
      </Suspense>
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
