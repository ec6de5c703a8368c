import { lazy, Suspense, useState } from 'react';
import { getApiKey, setApiKey } from './api.ts';
import { Fleet } from './pages/Fleet.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { href, navigate, useRoute } from './router.ts';

// The fleet page (the landing page) comes with the first download; the others, the cluster page's graph library
// above all, load when first opened.
const Cluster = lazy(() => import('./pages/Cluster.tsx').then((module) => ({ default: module.Cluster })));
const Server = lazy(() => import('./pages/Server.tsx').then((module) => ({ default: module.Server })));
const Servers = lazy(() => import('./pages/Server.tsx').then((module) => ({ default: module.Servers })));
const Upload = lazy(() => import('./pages/Upload.tsx').then((module) => ({ default: module.Upload })));

export function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(() => getApiKey() !== null);

  if (!signedIn || route.page === 'sign-in') {
    return (
      <>
        <Header signedIn={false} onSignOut={() => undefined} current="sign-in" />
        <SignIn onSignedIn={() => setSignedIn(true)} />
      </>
    );
  }

  function signOut() {
    setApiKey(null);
    setSignedIn(false);
    navigate(href.signIn());
  }

  return (
    <>
      <Header signedIn onSignOut={signOut} current={route.page} />
      <Suspense fallback={<PageLoading />}>
        {route.page === 'fleet' && <Fleet />}
        {route.page === 'cluster' && <Cluster key={route.id} id={route.id} />}
        {route.page === 'servers' && <Servers />}
        {route.page === 'server' && <Server key={route.name} name={route.name} />}
        {route.page === 'upload' && <Upload />}
      </Suspense>
    </>
  );
}

function Header({ signedIn, onSignOut, current }: { signedIn: boolean; onSignOut(): void; current: string }) {
  const link = (to: string, page: string, text: string) => (
    <a href={to} aria-current={current === page ? 'page' : undefined}>
      {text}
    </a>
  );
  return (
    <header className="top">
      <a className="skip-link" href="#main" onClick={(event) => { event.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <span className="brand">HangSleuth</span>
      {signedIn && (
        <nav aria-label="Main">
          {link(href.fleet(), 'fleet', 'Fleet')}
          {link(href.servers(), 'servers', 'Servers')}
          {link(href.upload(), 'upload', 'Upload')}
          <button type="button" className="link-button" onClick={onSignOut}>
            Sign out
          </button>
        </nav>
      )}
    </header>
  );
}

function PageLoading() {
  return (
    <main id="main" tabIndex={-1} aria-busy="true">
      <p>Loading…</p>
    </main>
  );
}
