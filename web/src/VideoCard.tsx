// One video, full height: plays while it is (mostly) on screen, paused otherwise. Muted until the
// user asks for sound (browsers only autoplay muted video). Like and comment buttons with counts.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Session, type Video } from './api';
import { CommentSheet } from './CommentSheet';
import { Avatar, ErrorText, count, useAction } from './ui';
import { CommentIcon, SoundIcon } from './icons';

interface Props {
  video: Video;
  session: Session | null;
  muted: boolean;
  setMuted: (m: boolean) => void;
  /** Play as soon as mounted, without waiting to be scrolled into view (the single-video dialog). */
  eager?: boolean;
}

export function VideoCard({ video: initial, session, muted, setMuted, eager }: Props) {
  const [video, setVideo] = useState(initial);
  const { run, busy, error, setError } = useAction();
  const [paused, setPaused] = useState(true);
  const [broken, setBroken] = useState(false);
  const [commentsOpen, setCommentsOpen] = useState(false);
  const box = useRef<HTMLElement>(null);
  const el = useRef<HTMLVideoElement>(null);

  useEffect(() => setVideo(initial), [initial]);

  // Play when at least 60% visible; pause when scrolled away (saves data and CPU).
  useEffect(() => {
    const v = el.current!;
    const play = () => v.play().catch(() => setPaused(true)); // refused autoplay: show the play button
    if (eager) {
      play();
      return () => v.pause();
    }
    const io = new IntersectionObserver(
      ([entry]) => (entry.isIntersecting ? play() : v.pause()),
      { threshold: 0.6 },
    );
    io.observe(box.current!);
    return () => io.disconnect();
  }, [eager]);

  function togglePlay() {
    const v = el.current!;
    if (v.paused) v.play().catch((e) => setError(new Error(`The video cannot play: ${e.message}`)));
    else v.pause();
  }

  function like() {
    if (!session) return void (location.hash = '#/login');
    const want = !video.is_favorite;
    run(async () => {
      await api.favorite(video.id, want);
      setVideo((v) => ({ ...v, is_favorite: want, favorite_count: Math.max(0, v.favorite_count + (want ? 1 : -1)) }));
    });
  }

  return (
    <article class="video-card" ref={box} data-video-id={video.id} aria-label={`Video: ${video.title}`}>
      <video
        ref={el}
        src={video.play_url}
        poster={video.cover_url}
        muted={muted}
        loop
        playsInline
        preload="metadata"
        onPlay={() => setPaused(false)}
        onPause={() => setPaused(true)}
        onError={() => setBroken(true)}
        // A tap first turns the sound on (the usual gesture on a phone), then plays/pauses.
        onClick={() => (muted ? setMuted(false) : togglePlay())}
      />
      {broken && <p class="video-broken" role="alert">This video could not be loaded.</p>}
      <div class="video-info">
        <a class="author" href={`#/user/${video.author.id}`}>
          <Avatar user={video.author} size={32} /> @{video.author.name}
        </a>
        <h2 class="video-title">{video.title}</h2>
        <ErrorText error={error} />
      </div>
      <div class="video-actions">
        <button type="button" class="like" aria-pressed={video.is_favorite} disabled={busy}
          aria-label={video.is_favorite ? 'Unlike' : 'Like'} onClick={like}>
          <span aria-hidden="true">{video.is_favorite ? '♥' : '♡'}</span>
          <span class="like-count">{count(video.favorite_count)}</span>
        </button>
        <button type="button" class="comments" aria-label="Comments" onClick={() => setCommentsOpen(true)}>
          <CommentIcon />
          <span class="comment-count">{count(video.comment_count)}</span>
        </button>
        <button type="button" class="mute" aria-label={muted ? 'Unmute' : 'Mute'} aria-pressed={!muted}
          onClick={() => setMuted(!muted)}>
          <SoundIcon on={!muted} />
        </button>
        <button type="button" class="playpause" aria-label={paused ? 'Play' : 'Pause'} onClick={togglePlay}>
          <span aria-hidden="true">{paused ? '▶' : '❚❚'}</span>
        </button>
      </div>
      {commentsOpen && (
        <CommentSheet video={video} session={session} onClose={() => setCommentsOpen(false)}
          onCount={(d) => setVideo((v) => ({ ...v, comment_count: Math.max(0, v.comment_count + d) }))} />
      )}
    </article>
  );
}
