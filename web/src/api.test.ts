// Unit tests of the API layer against a fake fetch (and a fake XMLHttpRequest for the upload).
import { describe, expect, it, vi } from 'vitest';
import { Api, ApiError, ChatCursor, FeedCursor, memoryStorage, parseRetryAfter, type FriendUser, type Message, type Video } from './api';

interface Call { url: string; method: string; params: URLSearchParams }

/** A fake fetch answering each call with the next of `replies` (HTTP status, body, headers), recording the calls. */
function fakeApi(replies: Array<[number, unknown, Record<string, string>?] | Error>, loggedIn = true) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    const params = method === 'GET' ? new URL(url, 'http://x').searchParams : new URLSearchParams(init!.body as URLSearchParams);
    calls.push({ url: url.split('?')[0], method, params });
    const r = replies.shift();
    if (!r) throw new Error('unexpected call ' + url);
    if (r instanceof Error) throw r;
    const [status, body, headers] = r;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers });
  });
  const storage = memoryStorage();
  if (loggedIn) storage.setItem('doutok.session', JSON.stringify({ userId: 7, token: 'tok', name: 'me' }));
  const api = new Api({ fetch: fetch as typeof globalThis.fetch, storage, xhr: () => { throw new Error('no xhr'); } });
  return { api, calls, storage };
}

const ok = (extra: object = {}): [number, unknown] => [200, { status_code: 0, status_msg: 'success', ...extra }];
const video = (id: number): Video => ({
  id, title: `v${id}`, play_url: '', cover_url: '', favorite_count: 0, comment_count: 0, is_favorite: false,
  author: { id: 1, name: 'a', follow_count: 0, follower_count: 0, is_follow: false, avatar: '', background_image: '', signature: '', total_favorited: 0, work_count: 0, favorite_count: 0 },
});
const msg = (id: number, t: number): Message => ({ id, create_time: t, from_user_id: 7, to_user_id: 9, content: `m${id}` });

describe('parameters', () => {
  it('GET sends the parameters and the token in the query string', async () => {
    const { api, calls } = fakeApi([ok({ video_list: [] })]);
    await api.publishList(42);
    expect(calls[0].url).toBe('/douyin/publish/list/');
    expect(calls[0].method).toBe('GET');
    expect(Object.fromEntries(calls[0].params)).toEqual({ user_id: '42', token: 'tok' });
  });

  it('POST sends form fields: like, comment add and delete, follow, message', async () => {
    const { api, calls } = fakeApi([ok(), ok({ comment: { id: 5 } }), ok({ comment: null }), ok(), ok(), ok()]);
    await api.favorite(3, true);
    await api.addComment(3, 'hi\nthere');
    await api.deleteComment(3, 5);
    await api.follow(9, false);
    await api.sendMessage(9, 'hello');
    await api.favorite(3, false);
    const p = calls.map((c) => [c.method, c.url, Object.fromEntries(c.params)]);
    expect(p).toEqual([
      ['POST', '/douyin/favorite/action/', { video_id: '3', action_type: '1', token: 'tok' }],
      ['POST', '/douyin/comment/action/', { video_id: '3', action_type: '1', comment_text: 'hi\nthere', token: 'tok' }],
      ['POST', '/douyin/comment/action/', { video_id: '3', action_type: '2', comment_id: '5', token: 'tok' }],
      ['POST', '/douyin/relation/action/', { to_user_id: '9', action_type: '2', token: 'tok' }],
      ['POST', '/douyin/message/action/', { to_user_id: '9', action_type: '1', content: 'hello', token: 'tok' }],
      ['POST', '/douyin/favorite/action/', { video_id: '3', action_type: '2', token: 'tok' }],
    ]);
  });

  it('user() without an id asks for the viewer; the feed sends no token when logged out', async () => {
    const { api, calls } = fakeApi([ok({ user: { id: 7 } })]);
    expect((await api.user()).id).toBe(7);
    expect(Object.fromEntries(calls[0].params)).toEqual({ token: 'tok' });
    const anon = fakeApi([ok({ video_list: [], next_time: 1 })], false);
    await anon.api.feed();
    expect([...anon.calls[0].params]).toEqual([]);
  });

  it('register keeps the session (no token sent), logout drops it', async () => {
    const { api, calls, storage } = fakeApi([ok({ user_id: 12, token: 'T12' })], false);
    const seen: unknown[] = [];
    api.onSession((s) => seen.push(s));
    const s = await api.register('bob', 'secret1');
    expect(Object.fromEntries(calls[0].params)).toEqual({ username: 'bob', password: 'secret1' });
    expect(s).toEqual({ userId: 12, token: 'T12', name: 'bob' });
    expect(api.session).toEqual(s);
    expect(storage.getItem('doutok.session')).toContain('T12');
    api.logout();
    expect(api.session).toBeNull();
    expect(seen).toEqual([s, null]);
  });
});

describe('errors', () => {
  it('a non-zero status_code throws the status_msg', async () => {
    const { api } = fakeApi([[200, { status_code: 10002, status_msg: 'username already taken', user_id: 0, token: '' }]], false);
    const err = await api.register('bob', 'secret1').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe('username already taken');
    expect(err.code).toBe(10002);
    expect(api.session).toBeNull();
  });

  it('401 clears the session and tells the app', async () => {
    const { api } = fakeApi([[401, { status_code: 40001, status_msg: 'token expired' }]]);
    const onUnauthorized = vi.fn();
    api.onUnauthorized = onUnauthorized;
    await expect(api.favoriteList(7)).rejects.toThrow('token expired');
    expect(api.session).toBeNull();
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('a 401 to a request sent with an older token does not end the newer session', async () => {
    let answerSlow!: (r: Response) => void;
    const fetch = vi.fn()
      .mockImplementationOnce(() => new Promise<Response>((r) => (answerSlow = r))) // sent with 'tok', answers late
      .mockImplementationOnce(async () => new Response(JSON.stringify({ status_code: 0, status_msg: '', user_id: 8, token: 'new' })));
    const storage = memoryStorage();
    storage.setItem('doutok.session', JSON.stringify({ userId: 7, token: 'tok', name: 'me' }));
    const api = new Api({ fetch, storage, xhr: () => { throw new Error('no xhr'); } });
    const onUnauthorized = vi.fn();
    api.onUnauthorized = onUnauthorized;
    const slow = api.favoriteList(7);
    const s = await api.login('other', 'secret1');
    answerSlow(new Response(JSON.stringify({ status_code: 40001, status_msg: 'token expired' }), { status: 401 }));
    await expect(slow).rejects.toThrow('token expired');
    expect(String(fetch.mock.calls[0][0])).toContain('token=tok');
    expect(api.session).toEqual(s);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('a login or register "success" without a token and a positive numeric user_id is refused', async () => {
    const bad = [{ user_id: 0, token: 'T' }, { user_id: 5, token: '' }, { user_id: '5', token: 'T' }, { token: 'T' }, { user_id: 5 }];
    const { api } = fakeApi([...bad.map((b) => ok(b)), ok({ user_id: -1, token: 'T' })]);
    const before = api.session;
    for (const _ of bad) {
      const err = await api.login('bob', 'secret1').catch((e) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err.message).toMatch(/valid session/);
    }
    await expect(api.register('bob', 'secret1')).rejects.toBeInstanceOf(ApiError);
    expect(api.session).toEqual(before); // the session in place is kept
  });

  it('retryAfter is the Retry-After header in seconds (fetch), undefined without one', async () => {
    const { api } = fakeApi([
      [429, { status_code: 42900, status_msg: 'slow down' }, { 'Retry-After': '7' }],
      [503, { status_code: 50002, status_msg: 'unavailable' }],
      [503, 'busy', { 'Retry-After': '2' }], // no envelope: still carries it
    ]);
    const e1 = await api.feed().catch((e) => e);
    expect([e1.message, e1.httpStatus, e1.retryAfter]).toEqual(['slow down', 429, 7]);
    expect((await api.feed().catch((e) => e)).retryAfter).toBeUndefined();
    expect((await api.feed().catch((e) => e)).retryAfter).toBe(2);
  });

  it('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0); // in the past: now
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('an answer that is not an envelope, or no answer, still gives a readable error', async () => {
    const { api } = fakeApi([[502, '<html>Bad gateway</html>'], [413, ''], new TypeError('Failed to fetch')]);
    await expect(api.feed()).rejects.toThrow(/HTTP 502/);
    await expect(api.feed()).rejects.toThrow(/too large/);
    await expect(api.feed()).rejects.toThrow('Network error: Failed to fetch');
  });
});

describe('toggleFollow', () => {
  it('flips is_follow on the server, then answers the user re-read from the server, keeping extra fields', async () => {
    const u = { ...video(1).author, id: 9, is_follow: false, follower_count: 3, message: 'hi', msgType: 0 } as FriendUser;
    const { api, calls } = fakeApi([ok(), ok({ user: { ...u, message: undefined, msgType: undefined, is_follow: true, follower_count: 4 } })]);
    const after = await api.toggleFollow(u);
    expect(Object.fromEntries(calls[0].params)).toEqual({ to_user_id: '9', action_type: '1', token: 'tok' });
    expect(Object.fromEntries(calls[1].params)).toEqual({ user_id: '9', token: 'tok' });
    expect([after.is_follow, after.follower_count, after.message]).toEqual([true, 4, 'hi']);
  });
});

describe('FeedCursor', () => {
  it('pages with latest_time = the previous next_time, never repeats a video, stops on an empty page', async () => {
    const { api, calls } = fakeApi([
      ok({ video_list: [video(5), video(4)], next_time: 4000 }),
      ok({ video_list: [video(4), video(3)], next_time: 3000 }), // 4 again: must not show twice
      ok({ video_list: [], next_time: 9_999_999 }), // empty page: next_time is "now"
    ]);
    const c = new FeedCursor(api);
    expect((await c.next()).map((v) => v.id)).toEqual([5, 4]);
    expect((await c.next()).map((v) => v.id)).toEqual([3]);
    expect(c.done).toBe(false);
    expect(await c.next()).toEqual([]);
    expect(c.done).toBe(true);
    expect(await c.next()).toEqual([]); // no further request
    expect(calls.map((x) => x.params.get('latest_time'))).toEqual([null, '4000', '3000']);
  });

  it('stops when a page brings nothing new or the cursor does not move back', async () => {
    const { api } = fakeApi([
      ok({ video_list: [video(2)], next_time: 2000 }),
      ok({ video_list: [video(2)], next_time: 2000 }),
    ]);
    const c = new FeedCursor(api);
    await c.next();
    expect(await c.next()).toEqual([]);
    expect(c.done).toBe(true);
  });
});

describe('ChatCursor', () => {
  it('polls with pre_msg_time = the newest create_time seen and shows each message once', async () => {
    const { api, calls } = fakeApi([
      ok({ message_list: [msg(1, 100), msg(2, 200)] }),
      ok({ message_list: [msg(2, 200), msg(3, 300)] }), // 2 again (an inclusive server): dropped
      ok({ message_list: [] }),
    ]);
    const c = new ChatCursor(api, 9);
    expect((await c.poll()).map((m) => m.id)).toEqual([1, 2]);
    expect((await c.poll()).map((m) => m.id)).toEqual([3]);
    expect(await c.poll()).toEqual([]);
    expect(calls.map((x) => [x.params.get('to_user_id'), x.params.get('pre_msg_time')])).toEqual([
      ['9', '0'], ['9', '200'], ['9', '300'],
    ]);
  });

  it('overlapping polls run one after the other and never duplicate', async () => {
    const { api, calls } = fakeApi([ok({ message_list: [msg(1, 100)] }), ok({ message_list: [msg(1, 100)] })]);
    const c = new ChatCursor(api, 9);
    const [a, b] = await Promise.all([c.poll(), c.poll()]);
    expect([...a, ...b].map((m) => m.id)).toEqual([1]);
    expect(calls[1].params.get('pre_msg_time')).toBe('100');
  });
});

describe('publish (XMLHttpRequest)', () => {
  /** A fake XHR that reports two progress events, then answers `reply`. */
  function fakeXhr(status: number, reply: unknown, headers: Record<string, string> = {}) {
    const sent: { method?: string; url?: string; form?: FormData } = {};
    const xhr = {
      upload: {} as { onprogress?: (e: Partial<ProgressEvent>) => void },
      status, statusText: '', responseText: JSON.stringify(reply),
      onload: null as null | (() => void),
      open(method: string, url: string) { Object.assign(sent, { method, url }); },
      setRequestHeader() {},
      getResponseHeader: (name: string) => headers[name] ?? null,
      send(form: FormData) {
        sent.form = form;
        queueMicrotask(() => {
          xhr.upload.onprogress?.({ lengthComputable: true, loaded: 50, total: 100 });
          xhr.upload.onprogress?.({ lengthComputable: true, loaded: 100, total: 100 });
          xhr.onload?.();
        });
      },
    };
    return { xhr, sent };
  }

  it('sends data, title and token as multipart and reports progress', async () => {
    const { xhr, sent } = fakeXhr(200, { status_code: 0, status_msg: 'success' });
    const storage = memoryStorage();
    storage.setItem('doutok.session', JSON.stringify({ userId: 7, token: 'tok', name: 'me' }));
    const api = new Api({ fetch: vi.fn(), storage, xhr: () => xhr as unknown as XMLHttpRequest });
    const progress: number[] = [];
    await api.publish(new File(['x'], 'clip.mp4'), 'my clip', (p) => progress.push(p));
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe('/douyin/publish/action/');
    expect(sent.form!.get('title')).toBe('my clip');
    expect(sent.form!.get('token')).toBe('tok');
    expect((sent.form!.get('data') as File).name).toBe('clip.mp4');
    expect(progress).toEqual([0.5, 1, 1]);
  });

  it('a refused upload rejects with the server status_msg', async () => {
    const { xhr } = fakeXhr(200, { status_code: 10006, status_msg: 'the file is not a playable video' });
    const api = new Api({ fetch: vi.fn(), storage: memoryStorage(), xhr: () => xhr as unknown as XMLHttpRequest });
    await expect(api.publish(new Blob(['x']), 't')).rejects.toThrow('the file is not a playable video');
  });

  it('an upload refused with Retry-After carries retryAfter', async () => {
    const { xhr } = fakeXhr(429, { status_code: 42900, status_msg: 'too many uploads' }, { 'Retry-After': '5' });
    const api = new Api({ fetch: vi.fn(), storage: memoryStorage(), xhr: () => xhr as unknown as XMLHttpRequest });
    const err = await api.publish(new Blob(['x']), 't').catch((e) => e);
    expect([err.message, err.retryAfter]).toEqual(['too many uploads', 5]);
  });
});
