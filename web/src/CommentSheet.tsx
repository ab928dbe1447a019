// The comments of one video in a modal sheet: newest first, add, delete one's own.
// A native <dialog> opened with showModal() gives focus trapping and Escape for free.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Comment, type Session, type Video } from './api';
import { Avatar, ErrorText, Loading, useAction, useLoad } from './ui';

interface Props {
  video: Video;
  session: Session | null;
  onClose: () => void;
  /** +1 / -1 as comments are added or deleted, so the card's count follows. */
  onCount: (delta: number) => void;
}

export function CommentSheet({ video, session, onClose, onCount }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [list, loadError, reload, setList] = useLoad(() => (session ? api.comments(video.id) : Promise.resolve([])), [video.id]);
  const [text, setText] = useState('');
  // One action for add and delete: one write at a time, so a Delete cannot be sent twice.
  const { run, busy, error } = useAction();
  // Until the list is there, a comment added now would be overwritten by the (older) list.
  const ready = list !== undefined;

  useEffect(() => {
    dialog.current!.showModal();
  }, []);

  function add(e: Event) {
    e.preventDefault();
    if (!ready || !text.trim()) return;
    run(async () => {
      const c = await api.addComment(video.id, text);
      setList((l) => [c, ...(l ?? []).filter((x) => x.id !== c.id)]);
      setText('');
      onCount(1);
    });
  }

  const remove = (c: Comment) =>
    run(async () => {
      await api.deleteComment(video.id, c.id);
      setList((l) => (l ?? []).filter((x) => x.id !== c.id));
      onCount(-1);
    });

  return (
    <dialog ref={dialog} class="sheet" aria-labelledby={`comments-${video.id}`} onClose={onClose}>
      <header class="sheet-head">
        <h2 id={`comments-${video.id}`}>Comments on “{video.title}”</h2>
        <button type="button" aria-label="Close comments" onClick={() => dialog.current!.close()}>✕</button>
      </header>
      {!session ? (
        <p><a href="#/login">Log in</a> to read and write comments.</p>
      ) : (
        <>
          <ErrorText error={loadError} />
          {loadError != null && <button type="button" onClick={reload}>Try again</button>}
          {!list && !loadError && <Loading what="Loading comments" />}
          {list && list.length === 0 && <p class="muted">No comments yet.</p>}
          <ul class="comment-list">
            {list?.map((c) => (
              <li key={c.id} class="comment" data-comment-id={c.id}>
                <Avatar user={c.user} size={28} />
                <div>
                  <a href={`#/user/${c.user.id}`}>{c.user.name}</a> <small class="muted">{c.create_date}</small>
                  <p class="comment-text">{c.content}</p>
                </div>
                {c.user.id === session.userId && (
                  <button type="button" class="small" aria-label={`Delete your comment “${c.content}”`} disabled={busy}
                    onClick={() => remove(c)}>
                    Delete
                  </button>
                )}
              </li>
            ))}
          </ul>
          <form class="comment-form" onSubmit={add}>
            <label class="visually-hidden" for={`new-comment-${video.id}`}>Write a comment</label>
            <input id={`new-comment-${video.id}`} placeholder="Add a comment…" value={text} maxLength={1000}
              disabled={!ready} onInput={(e) => setText(e.currentTarget.value)} />
            <button type="submit" class="primary" disabled={!ready || busy || !text.trim()}>Send</button>
          </form>
          <ErrorText error={error} />
        </>
      )}
    </dialog>
  );
}
