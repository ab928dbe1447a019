// The one module that talks to the DouTok gateway: every endpoint of the mobile contract
// (the Douyin simple-version API, as the gateway serves it), how parameters are sent, how the JSON envelope's errors
// become exceptions, the session token, and the two cursors (feed and chat).
//
// The page is served on the same origin as the API, so every path is relative ("/douyin/...").

// ---------- objects of the contract ----------

export interface User {
  id: number;
  name: string;
  follow_count: number;
  follower_count: number;
  is_follow: boolean;
  avatar: string;
  background_image: string;
  signature: string;
  total_favorited: number;
  work_count: number;
  favorite_count: number;
}

export interface Video {
  id: number;
  author: User;
  play_url: string;
  cover_url: string;
  favorite_count: number;
  comment_count: number;
  is_favorite: boolean;
  title: string;
}

export interface Comment {
  id: number;
  user: User;
  content: string;
  create_date: string; // "MM-DD"
}

export interface Message {
  id: number;
  to_user_id: number;
  from_user_id: number;
  content: string;
  create_time: number; // Unix ms
}

/** A friend: the User fields flattened, plus the latest message between the viewer and them. */
export interface FriendUser extends User {
  message: string;
  msgType: number; // 1: the viewer sent `message`, 0: the friend did
}

export interface Session {
  userId: number;
  token: string;
  name: string;
}

// ---------- errors ----------

/**
 * Any failure of a call: a non-zero status_code (message = the server's status_msg), an HTTP
 * error without an envelope, or a network failure (code -1). The message is always readable.
 * retryAfter: seconds the server asked us to wait (its Retry-After header, on 429 and 503), if any.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly httpStatus: number,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** The token is missing, malformed or expired: the user must log in again. */
  get unauthorized(): boolean {
    return this.httpStatus === 401;
  }
}

// ---------- the client ----------

type Params = Record<string, string | number | undefined>;

/** What the client needs from its environment; tests pass fakes. */
export interface ApiDeps {
  fetch: typeof fetch;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  xhr: () => XMLHttpRequest;
}

const SESSION_KEY = 'doutok.session';

export class Api {
  /** Called when the server answers 401 (the session has been cleared already). */
  onUnauthorized: (err: ApiError) => void = () => {};
  private listeners = new Set<(s: Session | null) => void>();

  constructor(private deps: ApiDeps) {}

  // ----- session (kept in localStorage so a reload stays logged in) -----

  get session(): Session | null {
    try {
      const s = JSON.parse(this.deps.storage.getItem(SESSION_KEY) ?? 'null');
      return s && typeof s.token === 'string' && s.token ? (s as Session) : null;
    } catch {
      return null; // corrupted entry: treat as logged out
    }
  }

  private setSession(s: Session | null): void {
    if (s) this.deps.storage.setItem(SESSION_KEY, JSON.stringify(s));
    else this.deps.storage.removeItem(SESSION_KEY);
    this.listeners.forEach((l) => l(s));
  }

  logout(): void {
    this.setSession(null);
  }

  /** Subscribe to log in / log out; returns the unsubscribe function. */
  onSession(listener: (s: Session | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ----- transport -----

  /** Adds the token (when there is one) and drops undefined parameters. */
  private params(p: Params, token: string | undefined): URLSearchParams {
    const out = new URLSearchParams();
    for (const [k, v] of Object.entries(p)) if (v !== undefined) out.set(k, String(v));
    if (token) out.set('token', token);
    return out;
  }

  /**
   * GET parameters go in the query string; POST parameters in an url-encoded body (the contract
   * reads both; a body keeps comment and message text out of URLs and access logs).
   */
  private async call<T>(method: 'GET' | 'POST', path: string, p: Params = {}, withToken = true): Promise<T> {
    const token = withToken ? this.session?.token : undefined;
    const params = this.params(p, token);
    let res: Response;
    try {
      res =
        method === 'GET'
          ? await this.deps.fetch(`${path}?${params}`, { headers: { Accept: 'application/json' } })
          : await this.deps.fetch(path, {
              method: 'POST',
              headers: { Accept: 'application/json' },
              body: params, // fetch sets application/x-www-form-urlencoded
            });
    } catch (e) {
      throw new ApiError(`Network error: ${(e as Error).message || 'the server cannot be reached'}`, -1, 0);
    }
    const text = await res.text();
    return this.envelope<T>(res.status, res.statusText, text, res.headers.get('Retry-After'), token);
  }

  /**
   * Turns an HTTP answer into the envelope's payload, or throws an ApiError with the reason.
   * `token` is the one the request carried (a 401 is about that token, not a newer session's).
   */
  private envelope<T>(status: number, statusText: string, text: string, retryAfterHeader: string | null, token: string | undefined): T {
    const retryAfter = parseRetryAfter(retryAfterHeader);
    let body: { status_code?: unknown; status_msg?: unknown } | null = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: a proxy error page, an empty body...
    }
    if (!body || typeof body !== 'object' || typeof body.status_code !== 'number') {
      this.fail(new ApiError(httpReason(status, statusText), -1, status, retryAfter), token);
    }
    const code = body!.status_code as number;
    if (code !== 0 || status >= 400) {
      const msg = typeof body!.status_msg === 'string' && body!.status_msg ? body!.status_msg : httpReason(status, statusText);
      this.fail(new ApiError(msg, code, status, retryAfter), token);
    }
    return body as T;
  }

  private fail(err: ApiError, token: string | undefined): never {
    // A 401 to a request sent before a new login (an old poll, a slow upload) must not end the
    // newer session: only the token that was refused is dropped.
    if (err.unauthorized && token && this.session?.token === token) {
      this.setSession(null);
      this.onUnauthorized(err);
    }
    throw err;
  }

  // ----- 16 endpoints -----

  /** 1. The feed, newest first, videos published strictly before latestTime (ms); none = now. */
  feed(latestTime?: number) {
    return this.call<{ video_list: Video[]; next_time: number }>('GET', '/douyin/feed/', { latest_time: latestTime });
  }

  /** 2. Register; on success the session starts at once (the answer carries a token). */
  async register(username: string, password: string): Promise<Session> {
    const r = await this.call<{ user_id: number; token: string }>('POST', '/douyin/user/register/', { username, password }, false);
    return this.started(r, username);
  }

  /** 3. Log in. */
  async login(username: string, password: string): Promise<Session> {
    const r = await this.call<{ user_id: number; token: string }>('POST', '/douyin/user/login/', { username, password }, false);
    return this.started(r, username);
  }

  private started(r: { user_id: unknown; token: unknown }, name: string): Session {
    // A "success" without a usable session (no token, user_id 0 or a string: defects of earlier
    // backends) would look logged in and fail on every later call: refuse it now.
    if (typeof r.token !== 'string' || !r.token || typeof r.user_id !== 'number' || !(r.user_id > 0))
      throw new ApiError('The server answered without a valid session (token and user id)', -1, 200);
    const s: Session = { userId: r.user_id, token: r.token, name };
    this.setSession(s);
    return s;
  }

  /** 4. A user's profile; without an id, the viewer's own. */
  async user(userId?: number): Promise<User> {
    return (await this.call<{ user: User }>('GET', '/douyin/user/', { user_id: userId })).user;
  }

  /**
   * 5. Publish a video. XMLHttpRequest rather than fetch because only XHR reports upload
   * progress. onProgress gets 0..1 as bytes leave the browser; the server then still checks and
   * converts the video before it answers.
   */
  publish(file: Blob, title: string, onProgress?: (fraction: number) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      form.append('title', title);
      const token = this.session?.token;
      if (token) form.append('token', token);
      form.append('data', file, (file as File).name || 'video.mp4');
      const xhr = this.deps.xhr();
      xhr.open('POST', '/douyin/publish/action/');
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) onProgress?.(e.loaded / e.total);
      };
      xhr.onload = () => {
        try {
          this.envelope(xhr.status, xhr.statusText, xhr.responseText, xhr.getResponseHeader('Retry-After'), token);
          onProgress?.(1);
          resolve();
        } catch (e) {
          reject(e);
        }
      };
      xhr.onerror = () => reject(new ApiError('Network error: the upload did not reach the server', -1, 0));
      xhr.onabort = () => reject(new ApiError('The upload was cancelled', -1, 0));
      xhr.send(form);
    });
  }

  /** 6. Videos a user published, newest first. */
  async publishList(userId: number): Promise<Video[]> {
    return (await this.call<{ video_list: Video[] }>('GET', '/douyin/publish/list/', { user_id: userId })).video_list ?? [];
  }

  /** 7. Like (true) or unlike (false). */
  async favorite(videoId: number, like: boolean): Promise<void> {
    await this.call('POST', '/douyin/favorite/action/', { video_id: videoId, action_type: like ? 1 : 2 });
  }

  /** 8. Videos a user likes, most recently liked first. */
  async favoriteList(userId: number): Promise<Video[]> {
    return (await this.call<{ video_list: Video[] }>('GET', '/douyin/favorite/list/', { user_id: userId })).video_list ?? [];
  }

  /** 9a. Add a comment; answers the stored comment (with its real id). */
  async addComment(videoId: number, text: string): Promise<Comment> {
    return (await this.call<{ comment: Comment }>('POST', '/douyin/comment/action/', { video_id: videoId, action_type: 1, comment_text: text })).comment;
  }

  /** 9b. Delete one's own comment. */
  async deleteComment(videoId: number, commentId: number): Promise<void> {
    await this.call('POST', '/douyin/comment/action/', { video_id: videoId, action_type: 2, comment_id: commentId });
  }

  /** 10. Comments of a video, newest first. */
  async comments(videoId: number): Promise<Comment[]> {
    return (await this.call<{ comment_list: Comment[] }>('GET', '/douyin/comment/list/', { video_id: videoId })).comment_list ?? [];
  }

  /** 11. Follow (true) or unfollow (false). */
  async follow(toUserId: number, follow: boolean): Promise<void> {
    await this.call('POST', '/douyin/relation/action/', { to_user_id: toUserId, action_type: follow ? 1 : 2 });
  }

  /**
   * The Follow / Unfollow button of every screen: flips `user`'s is_follow on the server, then
   * answers `user` with the server's fresh User fields (is_follow, follower_count), not a guess
   * (following twice counts once, so a stale is_follow would make a local +1 wrong).
   */
  async toggleFollow<T extends User>(user: T): Promise<T> {
    await this.follow(user.id, !user.is_follow);
    return { ...user, ...(await this.user(user.id)) };
  }

  /** 12. Whom a user follows. */
  async following(userId: number): Promise<User[]> {
    return (await this.call<{ user_list: User[] }>('GET', '/douyin/relation/follow/list/', { user_id: userId })).user_list ?? [];
  }

  /** 13. Who follows a user. */
  async followers(userId: number): Promise<User[]> {
    return (await this.call<{ user_list: User[] }>('GET', '/douyin/relation/follower/list/', { user_id: userId })).user_list ?? [];
  }

  /** 14. Friends (mutual follows), with the latest message of each conversation. */
  async friends(userId: number): Promise<FriendUser[]> {
    return (await this.call<{ user_list: FriendUser[] }>('GET', '/douyin/relation/friend/list/', { user_id: userId })).user_list ?? [];
  }

  /** 15. Messages with toUserId, both directions, create_time > preMsgTime, oldest first. */
  async chat(toUserId: number, preMsgTime = 0): Promise<Message[]> {
    return (await this.call<{ message_list: Message[] }>('GET', '/douyin/message/chat/', { to_user_id: toUserId, pre_msg_time: preMsgTime })).message_list ?? [];
  }

  /** 16. Send a message. */
  async sendMessage(toUserId: number, content: string): Promise<void> {
    await this.call('POST', '/douyin/message/action/', { to_user_id: toUserId, action_type: 1, content });
  }
}

/** Retry-After in seconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(h: string | null, now = Date.now()): number | undefined {
  if (!h?.trim()) return undefined;
  if (/^\s*\d+\s*$/.test(h)) return Number(h);
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

function httpReason(status: number, statusText: string): string {
  if (status === 413) return 'The file is too large for the server (HTTP 413)';
  if (status === 429) return 'Too many requests: please wait a moment and try again (HTTP 429)';
  if (status === 401) return 'Please log in again (HTTP 401)';
  if (status === 0) return 'Network error: no answer from the server';
  return `The server answered HTTP ${status}${statusText ? ' ' + statusText : ''} without a readable reply`;
}

// ---------- cursors ----------

/**
 * Pages through the feed: each page asks for videos strictly before the previous page's
 * next_time. It stops (done) on an empty page — whose next_time is "now", which would start
 * over from the newest — or on a page that brings nothing new. A video id is never returned twice.
 */
export class FeedCursor {
  private latestTime: number | undefined;
  private seen = new Set<number>();
  done = false;

  constructor(private api: Pick<Api, 'feed'>) {}

  async next(): Promise<Video[]> {
    if (this.done) return [];
    const page = await this.api.feed(this.latestTime);
    const list = page.video_list ?? [];
    const fresh = list.filter((v) => !this.seen.has(v.id));
    fresh.forEach((v) => this.seen.add(v.id));
    // A cursor that does not move back in time would serve the same page forever.
    const moved = this.latestTime === undefined || page.next_time < this.latestTime;
    if (list.length === 0 || fresh.length === 0 || !moved) this.done = true;
    else this.latestTime = page.next_time;
    return fresh;
  }
}

/**
 * Polls one conversation: each poll asks for messages after the newest create_time seen, and
 * drops any id already returned (so a repeated message — a retried poll, two polls in flight, a
 * server that includes pre_msg_time — is shown once). Polls never overlap.
 */
export class ChatCursor {
  private lastTime = 0;
  private seen = new Set<number>();
  private inFlight: Promise<Message[]> | null = null;

  constructor(
    private api: Pick<Api, 'chat'>,
    private toUserId: number,
  ) {}

  poll(): Promise<Message[]> {
    // A poll asked for while one runs waits for it and then asks again, so a message sent
    // just before is not missed.
    const run = async (): Promise<Message[]> => {
      const list = await this.api.chat(this.toUserId, this.lastTime);
      const fresh = list.filter((m) => !this.seen.has(m.id));
      for (const m of list) {
        this.seen.add(m.id);
        if (m.create_time > this.lastTime) this.lastTime = m.create_time;
      }
      return fresh;
    };
    const prev = this.inFlight;
    const p = (prev ? prev.catch(() => []).then(run) : run()).finally(() => {
      if (this.inFlight === p) this.inFlight = null;
    });
    this.inFlight = p;
    return p;
  }
}

// ---------- the instance the page uses ----------

export const api = new Api({
  fetch: (...a) => fetch(...a),
  storage: typeof localStorage !== 'undefined' ? localStorage : memoryStorage(),
  xhr: () => new XMLHttpRequest(),
});

export function memoryStorage(): ApiDeps['storage'] {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  };
}
