// Following, followers and friends of a user. Friends show the latest message and open the chat.
import { useState } from 'preact/hooks';
import { api, type FriendUser, type Session, type User } from '../api';
import { ErrorText, Loading, UserRow, useAction, useLoad } from '../ui';

type Kind = 'following' | 'followers' | 'friends';
const titles: Record<Kind, string> = { following: 'Following', followers: 'Followers', friends: 'Friends' };

export function UserList({ kind, userId, session }: { kind: Kind; userId: number; session: Session }) {
  const load = { following: api.following, followers: api.followers, friends: api.friends }[kind].bind(api);
  const [users, error, reload] = useLoad<(User | FriendUser)[]>(() => load(userId), [kind, userId]);
  const self = userId === session.userId;
  return (
    <main class="page">
      <h1>{titles[kind]}{!self && <small class="muted"> of user {userId}</small>}</h1>
      <nav class="tabs" aria-label="Lists">
        {(Object.keys(titles) as Kind[]).map((k) => (
          <a key={k} href={`#/user/${userId}/${k}`} aria-current={k === kind ? 'page' : undefined}>{titles[k]}</a>
        ))}
      </nav>
      <ErrorText error={error} />
      {error != null && <button type="button" onClick={reload}>Try again</button>}
      {!users && !error && <Loading />}
      {users?.length === 0 && <p class="muted">Nobody here yet.{kind === 'friends' && ' Friends are people who follow each other.'}</p>}
      <ul class={`user-list ${kind}`}>
        {users?.map((u) => (
          <UserRow key={u.id} user={u} detail={kind === 'friends' && 'message' in u && (
            <small class="muted last-message">{u.message ? `${u.msgType === 1 ? 'You: ' : ''}${u.message}` : 'No messages yet'}</small>
          )}>
            {u.id !== session.userId && <FollowButton user={u} />}
            {kind === 'friends' && self && <a class="button" href={`#/chat/${u.id}`} aria-label={`Chat with ${u.name}`}>Chat</a>}
          </UserRow>
        ))}
      </ul>
    </main>
  );
}

function FollowButton({ user: initial }: { user: User }) {
  const [user, setUser] = useState(initial);
  const { run, busy, error } = useAction();
  const following = user.is_follow;
  return (
    <>
      <button type="button" class="small" aria-pressed={following} disabled={busy}
        onClick={() => run(async () => setUser(await api.toggleFollow(user)))}
        aria-label={`${following ? 'Unfollow' : 'Follow'} ${user.name}`}>
        {following ? 'Unfollow' : 'Follow'}
      </button>
      <ErrorText error={error} />
    </>
  );
}
