// The vertical feed: one video per screen, snapping; the next page is asked for as the end comes
// near, with latest_time = the previous page's next_time (FeedCursor), until nothing new comes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, FeedCursor, type Session, type Video } from '../api';
import { VideoCard } from '../VideoCard';
import { ErrorText, Loading } from '../ui';

export function Feed({ session }: { session: Session | null }) {
  const [videos, setVideos] = useState<Video[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [done, setDone] = useState(false);
  const [muted, setMuted] = useState(true);
  const [generation, setGeneration] = useState(0); // bumps on "start again": a fresh cursor
  const cursor = useRef<FeedCursor>(null);
  const busy = useRef<FeedCursor | null>(null); // the cursor whose page is being fetched
  const end = useRef<HTMLDivElement>(null);
  const feed = useRef<HTMLElement>(null);
  const observer = useRef<IntersectionObserver>(null);

  async function more() {
    const c = cursor.current!;
    if (busy.current === c || c.done) return; // one page at a time
    busy.current = c;
    setLoading(true);
    setError(null);
    try {
      const fresh = await c.next();
      if (c !== cursor.current) return; // the feed was restarted meanwhile: drop this page
      setVideos((v) => [...v, ...fresh]);
      setDone(c.done);
      // An observer only reports changes: if the end is still near after this page (a short
      // page), observing it again makes it report now, so the next page follows.
      requestAnimationFrame(() => {
        if (!end.current || !observer.current) return; // the feed has been left meanwhile
        observer.current.unobserve(end.current);
        observer.current.observe(end.current);
      });
    } catch (e) {
      if (c === cursor.current) setError(e);
    } finally {
      if (busy.current === c) busy.current = null;
      if (c === cursor.current) setLoading(false);
    }
  }

  // A new cursor when the viewer changes (is_favorite / is_follow are viewer-relative) or on restart.
  useEffect(() => {
    cursor.current = new FeedCursor(api);
    setVideos([]);
    setDone(false);
    more();
  }, [session?.userId, generation]);

  // Load the next page when the end of the list comes within about two screens. The root is the
  // scrolling feed itself: a margin on the viewport does not reach past the feed's clipping.
  useEffect(() => {
    const io = new IntersectionObserver(([e]) => e.isIntersecting && more(), {
      root: feed.current,
      rootMargin: '0px 0px 200% 0px',
    });
    io.observe(end.current!);
    observer.current = io;
    return () => {
      io.disconnect();
      observer.current = null;
    };
  }, [generation]);

  return (
    <main class="feed" ref={feed} aria-label="Video feed" tabIndex={0}>
      <h1 class="visually-hidden">Feed</h1>
      <button type="button" class="refresh" aria-label="Refresh the feed" onClick={() => setGeneration((g) => g + 1)}>
        ↻
      </button>
      {videos.map((v) => (
        <VideoCard key={v.id} video={v} session={session} muted={muted} setMuted={setMuted} />
      ))}
      <div ref={end} class="feed-end">
        <ErrorText error={error} />
        {loading && <Loading what="Loading videos" />}
        {error != null && !loading && <button type="button" onClick={more}>Try again</button>}
        {!loading && !error && !done && videos.length > 0 && (
          <button type="button" onClick={more}>Load more videos</button>
        )}
        {done && (
          <p>
            {videos.length ? 'You have seen every video.' : 'No videos yet.'}{' '}
            <button type="button" onClick={() => setGeneration((g) => g + 1)}>Start again from the newest</button>
          </p>
        )}
      </div>
    </main>
  );
}
