import { useState, type FormEvent } from 'react';
import { ApiError, apiFetch, setApiKey } from '../api.ts';
import { href, navigate } from '../router.ts';

export function SignIn({ onSignedIn }: { onSignedIn(): void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Paste an API key.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await apiFetch('/v1/clusters?limit=1', {}, trimmed);
    } catch (caught) {
      // 403: a key without the read scope (upload only) still signs in; its pages say what it may not see.
      if (!(caught instanceof ApiError && caught.status === 403)) {
        setBusy(false);
        setError(caught instanceof ApiError && caught.status === 401 ? 'This API key was refused.' : `Could not check the key: ${String((caught as Error).message)}`);
        return;
      }
    }
    setApiKey(trimmed);
    setBusy(false);
    onSignedIn();
    navigate(href.fleet());
  }

  return (
    <main id="main" tabIndex={-1} className="sign-in">
      <h1>Sign in to HangSleuth</h1>
      <p>Paste an API key (<code>hs_…</code>). It is kept in this browser tab only and forgotten when the tab closes.</p>
      <form onSubmit={submit} className="stack">
        <label htmlFor="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autoComplete="off" spellCheck={false} value={key} onChange={(event) => setKey(event.target.value)} aria-describedby={error ? 'sign-in-error' : undefined} autoFocus />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        {error && (
          <p id="sign-in-error" role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
