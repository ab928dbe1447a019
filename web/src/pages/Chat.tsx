// A conversation: polls the server every 2 s for messages newer than the last one seen
// (ChatCursor: pre_msg_time + dedupe by id, so each message shows exactly once).
// After an error it waits longer (the server's Retry-After, else doubling up to 30 s), and it
// does not poll while the tab is hidden.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, ChatCursor, type Message, type Session } from '../api';
import { ErrorText, useAction, useLoad } from '../ui';

const POLL_MS = 2000;
const MAX_BACKOFF_MS = 30_000;

/** The wait before the next poll after `failures` errors in a row, the last being `err`. */
function backoff(err: unknown, failures: number): number {
  const doubled = Math.min(POLL_MS * 2 ** (failures - 1), MAX_BACKOFF_MS);
  const asked = err instanceof ApiError && err.retryAfter !== undefined ? err.retryAfter * 1000 : 0;
  return Math.max(doubled, asked);
}

export function Chat({ peerId, session }: { peerId: number; session: Session }) {
  const [peer] = useLoad(() => api.user(peerId), [peerId]);
  const [messages, setMessages] = useState<Message[]>([]);
  const [pollError, setPollError] = useState<unknown>(null);
  const [text, setText] = useState('');
  const { run, busy: sending, error: sendError } = useAction();
  // Built once (the app mounts one Chat per peer: key={peerId}); it holds what was seen.
  const [cursor] = useState(() => new ChatCursor(api, peerId));
  const list = useRef<HTMLOListElement>(null);

  /** One poll; answers its error (also shown), or null. */
  async function poll(): Promise<unknown> {
    try {
      const fresh = await cursor.poll();
      setPollError(null);
      if (fresh.length) setMessages((m) => [...m, ...fresh]);
      return null;
    } catch (e) {
      setPollError(e); // shown, and a later tick tries again
      return e;
    }
  }

  useEffect(() => {
    let live = true;
    let timer = 0; // the pending tick, 0 when none
    let polling = false;
    let failures = 0;
    const tick = async () => {
      timer = 0;
      if (document.hidden) return; // paused: becoming visible starts it again
      polling = true;
      const err = await poll();
      polling = false;
      if (!live) return;
      failures = err ? failures + 1 : 0;
      timer = window.setTimeout(tick, err ? backoff(err, failures) : POLL_MS);
    };
    const onVisibility = () => {
      if (live && !document.hidden && !timer && !polling) tick();
    };
    document.addEventListener('visibilitychange', onVisibility);
    tick();
    return () => {
      live = false;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [peerId]);

  // Keep the newest message in view.
  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [messages.length]);

  function send(e: Event) {
    e.preventDefault();
    if (!text.trim()) return;
    run(async () => {
      await api.sendMessage(peerId, text);
      setText('');
      await poll(); // show it now rather than at the next tick (the poll dedupes it)
    });
  }

  const name = peer?.name ?? `user ${peerId}`;
  return (
    <main class="page chat">
      <h1>
        Chat with <a href={`#/user/${peerId}`}>{name}</a>
      </h1>
      <ErrorText error={pollError} />
      <ol class="messages" ref={list} aria-live="polite" aria-label={`Messages with ${name}`}>
        {messages.map((m) => (
          <li key={m.id} data-message-id={m.id} class={m.from_user_id === session.userId ? 'mine' : 'theirs'}>
            <span class="visually-hidden">{m.from_user_id === session.userId ? 'You' : name}: </span>
            <span class="message-text">{m.content}</span>
            <time dateTime={new Date(m.create_time).toISOString()}>
              {new Date(m.create_time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
            </time>
          </li>
        ))}
      </ol>
      {messages.length === 0 && !pollError && <p class="muted">No messages yet. Say hello!</p>}
      <form class="message-form" onSubmit={send}>
        <label class="visually-hidden" for="message-input">Write a message</label>
        <input id="message-input" placeholder="Write a message…" maxLength={1000} value={text}
          onInput={(e) => setText(e.currentTarget.value)} />
        <button type="submit" class="primary" disabled={sending || !text.trim()}>Send</button>
      </form>
      <ErrorText error={sendError} />
    </main>
  );
}
