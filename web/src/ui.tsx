// Small pieces shared by the screens.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { User } from './api';

/** The message of any thrown value, for showing to the user (errors are never swallowed). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An error in words, announced to screen readers. Renders nothing without an error. */
export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {errorText(error)}
    </p>
  );
}

/**
 * Loads data for a screen: [data, error, reload, setData]. Reloads when a dependency changes.
 * setData lets a screen change what it shows (a new comment, a follow) without a second copy.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true; // an answer for an older screen must not overwrite the current one
    setError(null);
    load().then(
      (d) => live && setData(d),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return [data, error, () => setN((x) => x + 1), setData] as const;
}

/**
 * A user action (like, follow, send, upload...): run(fn) marks it busy, clears the last error,
 * awaits fn and keeps its error for <ErrorText>. While one runs, another run() is ignored, so a
 * double click cannot send twice (the disabled button only takes effect at the next render).
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const running = useRef(false);
  async function run(fn: () => Promise<unknown>): Promise<void> {
    if (running.current) return;
    running.current = true;
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      running.current = false;
      setBusy(false);
    }
  }
  return { run, busy, error, setError };
}

export function Avatar({ user, size = 40 }: { user: Pick<User, 'avatar' | 'name'>; size?: number }) {
  return <img class="avatar" src={user.avatar} alt="" width={size} height={size} loading="lazy" />;
}

/** One user in a list: avatar and name link to the profile; `detail` goes under the name, `children` are actions. */
export function UserRow({ user, detail, children }: { user: User; detail?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <li class="user-row">
      <a href={`#/user/${user.id}`} class="user-link">
        <Avatar user={user} />
        <span>
          <strong>{user.name}</strong>
          {user.signature && <small class="muted"> {user.signature}</small>}
          {detail && <><br />{detail}</>}
        </span>
      </a>
      <span class="row-actions">{children}</span>
    </li>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="muted" role="status">
      {what}…
    </p>
  );
}

/** 1234 → "1.2k": counts stay short on a phone. */
export function count(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}
