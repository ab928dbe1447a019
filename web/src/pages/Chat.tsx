// A conversation: polls the server every 2 s for messages newer than the last one seen
// (ChatCursor: pre_msg_time + dedupe by id, so each message shows exactly once).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ChatCursor, type Message, type Session } from '../api';
import { ErrorText, useLoad } from '../ui';

const POLL_MS = 2000;

export function Chat({ peerId, session }: { peerId: number; session: Session }) {
  const [peer] = useLoad(() => api.user(peerId), [peerId]);
  const [messages, setMessages] = useState<Message[]>([]);
  const [pollError, setPollError] = useState<unknown>(null);
  const [sendError, setSendError] = useState<unknown>(null);
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const cursor = useRef(new ChatCursor(api, peerId));
  const list = useRef<HTMLOListElement>(null);

  async function poll() {
    try {
      const fresh = await cursor.current.poll();
      setPollError(null);
      if (fresh.length) setMessages((m) => [...m, ...fresh]);
    } catch (e) {
      setPollError(e); // shown, and the next tick tries again
    }
  }

  useEffect(() => {
    let live = true;
    let timer = 0;
    const tick = async () => {
      await poll();
      if (live) timer = window.setTimeout(tick, POLL_MS);
    };
    tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [peerId]);

  // Keep the newest message in view.
  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [messages.length]);

  async function send(e: Event) {
    e.preventDefault();
    if (!text.trim()) return;
    setSending(true);
    setSendError(null);
    try {
      await api.sendMessage(peerId, text);
      setText('');
      await poll(); // show it now rather than at the next tick (the poll dedupes it)
    } catch (err) {
      setSendError(err);
    } finally {
      setSending(false);
    }
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
