// Log in or register. Registering starts the session at once (the server answers a token).
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorText, useAction } from '../ui';

export function Login({ notice, onDone }: { notice?: string; onDone: () => void }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { run, busy, error, setError } = useAction();

  function submit(e: Event) {
    e.preventDefault();
    setError(null);
    // The contract's rules, checked here only to answer faster; the server decides.
    if (mode === 'register' && /\s/.test(username)) return setError(new Error('A username cannot contain spaces.'));
    if (mode === 'register' && new TextEncoder().encode(password).length < 6)
      return setError(new Error('The password needs at least 6 characters.'));
    run(async () => {
      await (mode === 'login' ? api.login(username, password) : api.register(username, password));
      onDone();
    });
  }

  const title = mode === 'login' ? 'Log in' : 'Create an account';
  return (
    <main class="page narrow">
      <h1>DouTok</h1>
      {notice && <p class="notice" role="status">{notice}</p>}
      <div class="tabs" role="group" aria-label="Log in or register">
        <button type="button" aria-pressed={mode === 'login'} onClick={() => setMode('login')}>Log in</button>
        <button type="button" aria-pressed={mode === 'register'} onClick={() => setMode('register')}>Register</button>
      </div>
      <form onSubmit={submit} class="stack" aria-label={title}>
        <label>
          Username
          <input name="username" autocomplete="username" required maxLength={32} value={username}
            onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" required minLength={6} maxLength={32}
            autocomplete={mode === 'login' ? 'current-password' : 'new-password'} value={password}
            onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {mode === 'register' && <p class="muted small">Up to 32 characters, no spaces; password 6 to 32 characters.</p>}
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Please wait…' : title}</button>
      </form>
      <p><a href="#/feed">Browse the feed without an account</a></p>
    </main>
  );
}
