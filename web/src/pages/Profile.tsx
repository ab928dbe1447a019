// A user's profile: counters, follow / unfollow, message, and their works and likes as a grid.
// Opening a tile plays that video in a dialog with its like and comment buttons.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Session, type Video } from '../api';
import { VideoCard } from '../VideoCard';
import { Avatar, ErrorText, Loading, count, useAction, useLoad } from '../ui';
import { CommentIcon } from '../icons';

export function Profile({ userId, session }: { userId: number; session: Session }) {
  const self = userId === session.userId;
  const [user, loadError, reload, setUser] = useLoad(() => api.user(userId), [userId]);
  const [tab, setTab] = useState<'works' | 'likes'>('works');
  const { run, busy, error } = useAction();

  const toggleFollow = () => run(async () => setUser(await api.toggleFollow(user!)));

  if (loadError) return <main class="page"><ErrorText error={loadError} /><button type="button" onClick={reload}>Try again</button></main>;
  if (!user) return <main class="page"><Loading what="Loading profile" /></main>;
  return (
    <main class="page profile">
      <header class="profile-head">
        <Avatar user={user} size={72} />
        <div>
          <h1>{user.name}{self && <small class="muted"> (you)</small>}</h1>
          {user.signature && <p>{user.signature}</p>}
        </div>
      </header>
      <p class="counters">
        <a href={`#/user/${user.id}/following`}><strong class="follow-count">{count(user.follow_count)}</strong> following</a>
        <a href={`#/user/${user.id}/followers`}><strong class="follower-count">{count(user.follower_count)}</strong> followers</a>
        <span><strong class="total-favorited">{count(user.total_favorited)}</strong> likes received</span>
      </p>
      <div class="row">
        {self ? (
          <>
            <a class="button" href="#/friends">Friends</a>
            <a class="button" href="#/upload">Upload a video</a>
            <button type="button" onClick={() => { api.logout(); location.hash = '#/login'; }}>Log out</button>
          </>
        ) : (
          <>
            <button type="button" class={user.is_follow ? '' : 'primary'} aria-pressed={user.is_follow} disabled={busy}
              onClick={toggleFollow}>
              {user.is_follow ? 'Unfollow' : 'Follow'}
            </button>
            <a class="button" href={`#/chat/${user.id}`}>Message</a>
          </>
        )}
      </div>
      <ErrorText error={error} />
      <div class="tabs" role="tablist" aria-label="Videos">
        <button type="button" role="tab" aria-selected={tab === 'works'} onClick={() => setTab('works')}>
          Works ({count(user.work_count)})
        </button>
        <button type="button" role="tab" aria-selected={tab === 'likes'} onClick={() => setTab('likes')}>
          Likes ({count(user.favorite_count)})
        </button>
      </div>
      <VideoGrid key={tab} session={session}
        load={() => (tab === 'works' ? api.publishList(user.id) : api.favoriteList(user.id))}
        empty={tab === 'works' ? 'No videos published yet.' : 'No liked videos yet.'} />
    </main>
  );
}

function VideoGrid({ load, session, empty }: { load: () => Promise<Video[]>; session: Session; empty: string }) {
  const [videos, error, reload] = useLoad(load, []);
  const [open, setOpen] = useState<Video | null>(null);
  if (error) return <><ErrorText error={error} /><button type="button" onClick={reload}>Try again</button></>;
  if (!videos) return <Loading what="Loading videos" />;
  if (!videos.length) return <p class="muted">{empty}</p>;
  return (
    <>
      <ul class="grid" role="tabpanel">
        {videos.map((v) => (
          <li key={v.id} data-video-id={v.id}>
            <button type="button" class="tile" aria-label={`Play “${v.title}”: ${v.favorite_count} likes, ${v.comment_count} comments`}
              onClick={() => setOpen(v)}>
              <img src={v.cover_url} alt="" loading="lazy" />
              <span class="tile-title">{v.title}</span>
              <span class="tile-counts">
                <span aria-hidden="true">♥</span>&nbsp;<span class="like-count">{v.favorite_count}</span>{' '}
                <CommentIcon /> <span class="comment-count">{v.comment_count}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      {open && <VideoDialog video={open} session={session} onClose={() => { setOpen(null); reload(); }} />}
    </>
  );
}

/** One video in a modal, playing at once. Closing reloads the grid so its counts follow. */
function VideoDialog({ video, session, onClose }: { video: Video; session: Session; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [muted, setMuted] = useState(true);
  useEffect(() => dialog.current!.showModal(), []);
  return (
    <dialog ref={dialog} class="player" aria-label={`Video: ${video.title}`} onClose={onClose}>
      <button type="button" class="close" aria-label="Close video" onClick={() => dialog.current!.close()}>✕</button>
      <VideoCard video={video} session={session} muted={muted} setMuted={setMuted} eager />
    </dialog>
  );
}
