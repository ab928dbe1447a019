// The shell: hash routing (the gateway owns every other top-level path), the session, the
// navigation bar, and the screen for the current route.
import { useEffect, useState } from 'preact/hooks';
import { api, type Session } from './api';
import { Login } from './pages/Login';
import { Feed } from './pages/Feed';
import { Profile } from './pages/Profile';
import { Upload } from './pages/Upload';
import { UserList } from './pages/Users';
import { Chat } from './pages/Chat';
import { PlusIcon } from './icons';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

export function App() {
  const hash = useHash();
  const [session, setSession] = useState<Session | null>(api.session);
  const [notice, setNotice] = useState('');

  useEffect(() => {
    const off = api.onSession(setSession);
    // An expired token logs out everywhere; say why instead of failing silently.
    api.onUnauthorized = (e) => {
      setNotice(`You have been logged out: ${e.message}`);
      location.hash = '#/login';
    };
    return () => {
      off();
    };
  }, []);

  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [route = 'feed', a, b] = parts;
  const id = Number(a);
  let screen;
  // The feed is open to anyone; everything else needs an account.
  if (route === 'login' || (!session && route !== 'feed')) {
    screen = <Login notice={notice} onDone={() => { setNotice(''); location.hash = '#/feed'; }} />;
  } else if (route === 'feed') {
    screen = <Feed session={session} />;
  } else if (route === 'me') {
    screen = <Profile key={`me`} userId={session!.userId} session={session!} />;
  } else if (route === 'user' && id > 0 && !b) {
    screen = <Profile key={`u${id}`} userId={id} session={session!} />;
  } else if (route === 'user' && id > 0 && (b === 'following' || b === 'followers' || b === 'friends')) {
    screen = <UserList key={`${id}/${b}`} kind={b} userId={id} session={session!} />;
  } else if (route === 'friends') {
    screen = <UserList key="friends" kind="friends" userId={session!.userId} session={session!} />;
  } else if (route === 'upload') {
    screen = <Upload session={session!} />;
  } else if (route === 'chat' && id > 0) {
    screen = <Chat key={id} peerId={id} session={session!} />;
  } else {
    screen = (
      <main class="page">
        <h1>Not found</h1>
        <p>
          There is no page at <code>{hash}</code>. <a href="#/feed">Go to the feed</a>.
        </p>
      </main>
    );
  }

  const here = (r: string) => (route === r ? 'page' : undefined);
  return (
    <div class="shell">
      {screen}
      <nav class="tabbar" aria-label="Main">
        <a href="#/feed" aria-current={here('feed')}>Feed</a>
        <a href="#/friends" aria-current={here('friends')}>Friends</a>
        <a href="#/upload" aria-current={here('upload')} aria-label="Upload a video"><PlusIcon /></a>
        {session ? (
          <a href="#/me" aria-current={here('me')}>Me</a>
        ) : (
          <a href="#/login" aria-current={here('login')}>Log in</a>
        )}
      </nav>
    </div>
  );
}
