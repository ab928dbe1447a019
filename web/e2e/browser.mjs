// End-to-end test of the web client in Debian's Chromium against a running DouTok stack.
//   node web/e2e/browser.mjs            (DOUTOK_URL=http://127.0.0.1:8080 by default; CHROMIUM=/usr/bin/chromium)
// Two users in two browser contexts: A uploads, B finds the video in the feed, watches it play,
// likes and comments (and deletes a second comment); A sees the counts; they follow each other,
// become friends and chat.
// Screenshots go to web/test-results/NN-name.png; a failing step saves failure-<step>.png and
// exits 1. Exit 0 only when every step passed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = (process.env.DOUTOK_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results');
const started = Date.now();
const run = Date.now().toString(36) + Math.random().toString(36).slice(2, 6); // unique per run
const TIMEOUT = 20_000;

mkdirSync(OUT, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'doutok-e2e-'));
let browser;
let shot = 0;
let current = 'start';

function log(msg) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
}

/** Screenshot of a page as web/test-results/NN-name.png. */
async function snap(page, name) {
  shot += 1;
  await page.screenshot({ path: join(OUT, `${String(shot).padStart(2, '0')}-${name}.png`) });
}

/** Runs one step; on failure saves failure-<step>.png of the pages involved and exits 1. */
async function step(name, pages, fn) {
  current = name;
  log(name);
  try {
    await fn();
  } catch (err) {
    for (const [i, p] of pages.entries()) {
      const file = join(OUT, `failure-${name}${pages.length > 1 ? '-' + (i + 1) : ''}.png`);
      await p.screenshot({ path: file }).catch(() => {});
    }
    console.error(`\nFAILED at step "${name}": ${err?.message ?? err}`);
    console.error(`screenshots: ${OUT}/failure-${name}*.png`);
    await finish(1);
  }
}

async function finish(code) {
  await browser?.close().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(code === 0 ? `\nPASSED: all steps in ${secs}s` : `\nelapsed ${secs}s`);
  process.exit(code);
}

function expectEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// The page drops ids it has shown already (FeedCursor, ChatCursor), so what it shows cannot tell
// whether the server repeated itself. The raw JSON replies of the feed and the chat are recorded
// here instead, in the order they came, to check the server: a page of the feed and a poll of a
// conversation never bring an id again.
const rawReplies = []; // { who, path, query, body: Promise<object | null> }
function recordReplies(who, page) {
  page.on('response', (res) => {
    const url = new URL(res.url());
    const path = url.pathname.replace(/\/$/, ''); // with or without the trailing slash
    if (path !== '/douyin/feed' && path !== '/douyin/message/chat') return;
    rawReplies.push({ who, path, query: url.searchParams, body: res.json().catch(() => null) });
  });
}

/**
 * The replies of one kind cut into chains, one per cursor: a request without a cursor value (no
 * latest_time; pre_msg_time 0) starts a chain, any other continues the chain of the same page
 * (and conversation) whose last reply led to that value. Throws when one chain brings an id twice.
 * Answers the number of replies that brought ids, so a check that saw nothing can be refused.
 */
async function assertNoRepeats(path, { key, from, ids, next }) {
  const chains = [];
  let n = 0;
  for (const r of rawReplies.filter((x) => x.path === path)) {
    const body = await r.body;
    if (!body || body.status_code !== 0) continue; // not JSON, or an error: it brings nothing
    const k = key(r);
    const f = from(r);
    const list = ids(body);
    if (!list.length) continue; // brings no id, and does not move the cursor
    n += 1;
    let chain = f ? chains.findLast((c) => c.key === k && c.next === f) : undefined;
    if (f && !chain) log(`  note: ${path} from ${f} follows no recorded reply: a new chain`);
    if (!chain) chains.push((chain = { key: k, next: undefined, seen: new Map() }));
    for (const id of list) {
      const earlier = chain.seen.get(id);
      if (earlier) throw new Error(`${path}: id ${id} came again in reply ${n} of ${k}, asked from ${f ?? 'the start'} (first in reply ${earlier})`);
      chain.seen.set(id, n);
    }
    chain.next = next(body, chain.next);
  }
  log(`  ${path}: ${n} replies with ids in ${chains.length} chains, no id repeated`);
  return n;
}

/** No video id in two feed replies of one scroll (a refresh starts a new scroll). */
const assertFeedNoRepeats = () => assertNoRepeats('/douyin/feed', {
  key: (r) => r.who,
  from: (r) => r.query.get('latest_time'),
  ids: (b) => (b.video_list ?? []).map((v) => v.id),
  next: (b) => String(b.next_time), // the cursor's next latest_time
});

/** No message id in two chat replies of one poller (one opened conversation). */
const assertChatNoRepeats = () => assertNoRepeats('/douyin/message/chat', {
  key: (r) => `${r.who} with ${r.query.get('to_user_id')}`,
  from: (r) => (Number(r.query.get('pre_msg_time')) > 0 ? r.query.get('pre_msg_time') : undefined),
  ids: (b) => (b.message_list ?? []).map((m) => m.id),
  // the next pre_msg_time: the newest create_time seen in this conversation
  next: (b, prev) => String(Math.max(Number(prev ?? 0), ...b.message_list.map((m) => m.create_time))),
});

// ---------------------------------------------------------------------------------------------

// A short H.264/AAC clip of our own (no fixture in the repo, no download).
const clip = join(tmp, 'clip.mp4');
await step('make-video', [], async () => {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-movflags', '+faststart', '-shortest', clip]);
});

await step('launch-chromium', [], async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
});

// A on a phone-sized viewport, B on a desktop one: both layouts are exercised.
const ctxA = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
const ctxB = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const pageErrors = []; // uncaught exceptions in the page fail the run
const a = await ctxA.newPage();
const b = await ctxB.newPage();
for (const [who, p] of [['A', a], ['B', b]]) {
  p.setDefaultTimeout(TIMEOUT);
  recordReplies(who, p);
  p.on('pageerror', (e) => {
    pageErrors.push(`${who}: ${e.message}`);
    log(`page error (${who}): ${e.message}`);
  });
  // A Content-Security-Policy violation (the gateway sends a strict one) is a failure too.
  p.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(`${who}: ${m.text()}`);
  });
}

const userA = `a_${run}`;
const userB = `b_${run}`;
const password = 'e2e-secret';
const title = `e2e clip ${run}`;

async function register(page, name) {
  await page.goto(`${BASE}/#/login`);
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.waitForFunction(() => location.hash === '#/feed');
  const s = await page.evaluate(() => JSON.parse(localStorage.getItem('doutok.session')));
  if (!s?.token || !(s.userId > 0)) throw new Error(`no session after registering: ${JSON.stringify(s)}`);
  return s.userId;
}

let idA, idB;
await step('register-a', [a], async () => {
  // First, a wrong login must show the server's error in words.
  await a.goto(`${BASE}/#/login`);
  await a.getByLabel('Username').fill(userA);
  await a.getByLabel('Password').fill('wrong-password');
  await a.getByRole('button', { name: 'Log in', exact: true }).last().click();
  const alert = a.getByRole('alert');
  await alert.waitFor();
  expectEq(await alert.textContent(), 'wrong username or password', 'login error text (the server\'s status_msg)');
  await snap(a, 'login-error');
  idA = await register(a, userA);
});
await step('register-b', [b], async () => {
  idB = await register(b, userB);
  await snap(b, 'feed-after-register');
});

await step('upload-refused', [a], async () => {
  // A file that is not a video: the server refuses it and the page says why (its status_msg).
  const fake = join(tmp, 'not-a-video.mp4');
  writeFileSync(fake, 'this is not a video\n');
  await a.goto(`${BASE}/#/upload`);
  await a.getByLabel('Title').fill(`bad ${run}`);
  await a.getByLabel('Video file').setInputFiles(fake);
  await a.getByRole('button', { name: 'Publish' }).click();
  const alert = a.locator('main [role="alert"]');
  await alert.waitFor();
  const text = (await alert.textContent()) ?? '';
  if (!/video/i.test(text)) throw new Error(`unexpected error text: ${text}`);
  await snap(a, 'upload-refused');
});

await step('upload', [a], async () => {
  await a.goto(`${BASE}/#/feed`); // leave and come back: a fresh form
  await a.goto(`${BASE}/#/upload`);
  await a.getByLabel('Title').fill(title);
  await a.getByLabel('Video file').setInputFiles(clip);
  // On loopback an upload is over at once: Chromium's network emulation slows it to about two
  // seconds, so the bar is seen moving, and every value it shows is recorded.
  const cdp = await a.context().newCDPSession(a);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: Math.ceil(statSync(clip).size / 2),
  });
  await a.evaluate(() => {
    window.__progressSeen = [];
    new MutationObserver(() => {
      const bar = document.querySelector('#upload-progress');
      if (bar) window.__progressSeen.push(Number(bar.value));
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] });
  });
  await a.getByRole('button', { name: 'Publish' }).click();
  // The progress bar reaches 100% (it stays there once the server has accepted the video).
  await a.locator('.success').waitFor({ timeout: 60_000 }).catch(async (e) => {
    const msg = await a.locator('.error').textContent().catch(() => null);
    throw new Error(msg ? `upload refused: ${msg}` : e.message);
  });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const seen = await a.evaluate(() => window.__progressSeen);
  if (!seen.some((v) => v > 0 && v < 100)) throw new Error(`the progress bar never showed a value between 0 and 100: ${seen.join(',')}`);
  log(`  progress bar showed ${[...new Set(seen)].join(', ')}`);
  expectEq(await a.locator('#upload-progress').evaluate((p) => p.value), 100, 'progress bar value');
  expectEq(await a.locator('.upload-percent').textContent(), '100%', 'progress text');
  await snap(a, 'upload-done');
});

let card;
await step('feed-find-video', [b], async () => {
  await b.goto(`${BASE}/#/feed`);
  // B's feed was loaded when B registered, before the upload: refresh it as a user would.
  await b.getByRole('button', { name: 'Refresh the feed' }).click();
  card = b.locator('article.video-card', { has: b.getByRole('heading', { name: title, exact: true }) });
  // Scroll page after page until A's video is there (it is the newest, so normally on page 1).
  for (let i = 0; (await card.count()) === 0; i++) {
    if (i >= 20) throw new Error(`video "${title}" not found after scrolling the feed ${i} times`);
    await b.locator('.feed').evaluate((f) => f.scrollTo(0, f.scrollHeight));
    await b.waitForTimeout(400);
  }
  const ids = await b.locator('.feed article[data-video-id]').evaluateAll((els) => els.map((e) => e.dataset.videoId));
  if (new Set(ids).size !== ids.length) throw new Error(`the feed shows a video twice: ${ids.join(',')}`);
  if ((await assertFeedNoRepeats()) === 0) throw new Error('no feed reply with videos was recorded');
});

await step('feed-video-plays', [b], async () => {
  await card.scrollIntoViewIfNeeded();
  const video = card.locator('video');
  log(`  chromium canPlayType(H.264/AAC MP4) = "${await video.evaluate((v) => v.canPlayType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"'))}"`);
  // It plays on its own (muted) once in view: currentTime must advance.
  await video.evaluate((v) => new Promise((resolve, reject) => {
    const t0 = v.currentTime;
    const deadline = setTimeout(() => reject(new Error(
      `video did not advance: currentTime=${v.currentTime} paused=${v.paused} readyState=${v.readyState} ` +
      `error=${v.error ? v.error.code + ' ' + v.error.message : 'none'} src=${v.currentSrc}`)), 15_000);
    const check = () => { if (v.currentTime > t0 + 0.5) { clearTimeout(deadline); resolve(); } else setTimeout(check, 100); };
    check();
  }));
  expectEq(await video.evaluate((v) => v.muted), true, 'video muted before the user unmutes');
  await card.getByRole('button', { name: 'Unmute' }).click();
  expectEq(await video.evaluate((v) => v.muted), false, 'video muted after Unmute');
  await snap(b, 'feed-video-playing');
});

await step('like-and-comment', [b], async () => {
  await card.getByRole('button', { name: 'Like', exact: true }).click();
  await card.locator('button.like[aria-pressed="true"] .like-count', { hasText: /^1$/ }).waitFor();
  await card.getByRole('button', { name: 'Comments' }).click();
  const sheet = b.getByRole('dialog');
  await sheet.getByLabel('Write a comment').fill(`nice video ${run}`);
  await sheet.getByRole('button', { name: 'Send' }).click();
  await sheet.locator('.comment-text', { hasText: `nice video ${run}` }).waitFor();
  // A second comment, deleted again: one's own comments can be removed from the sheet.
  const regret = `typo ${run}`;
  await sheet.getByLabel('Write a comment').fill(regret);
  await sheet.getByRole('button', { name: 'Send' }).click();
  await sheet.locator('.comment-text', { hasText: regret }).waitFor();
  await sheet.getByRole('button', { name: `Delete your comment “${regret}”` }).click();
  await sheet.locator('.comment-text', { hasText: regret }).waitFor({ state: 'detached' });
  await snap(b, 'comment-sheet');
  await b.keyboard.press('Escape');
  await card.locator('.comment-count', { hasText: /^1$/ }).waitFor();
});

await step('author-sees-counts', [a], async () => {
  await a.goto(`${BASE}/#/me`);
  const tile = a.locator('.grid li', { hasText: title });
  await tile.waitFor();
  expectEq(await tile.locator('.like-count').textContent(), '1', 'like count on A\'s video');
  expectEq(await tile.locator('.comment-count').textContent(), '1', 'comment count on A\'s video');
  expectEq(await a.locator('.total-favorited').textContent(), '1', 'A\'s likes received');
  await snap(a, 'profile-with-counts');
});

await step('b-follows-a', [b], async () => {
  await card.locator('a.author').click(); // from the video to its author's profile
  await b.waitForFunction((id) => location.hash === `#/user/${id}`, idA);
  await b.getByRole('button', { name: 'Follow', exact: true }).click();
  await b.getByRole('button', { name: 'Unfollow', exact: true }).waitFor();
  await b.locator('.follower-count', { hasText: /^1$/ }).waitFor();
  await snap(b, 'b-follows-a');
});

await step('a-follows-back', [a], async () => {
  await a.goto(`${BASE}/#/user/${idA}/followers`);
  const row = a.locator('.user-row', { hasText: userB });
  await row.getByRole('button', { name: `Follow ${userB}` }).click();
  await row.getByRole('button', { name: `Unfollow ${userB}` }).waitFor();
  await snap(a, 'a-followers-follow-back');
});

await step('friend-lists', [a, b], async () => {
  await a.goto(`${BASE}/#/friends`);
  await a.locator('.user-list.friends .user-row', { hasText: userB }).waitFor();
  await snap(a, 'a-friends');
  await b.goto(`${BASE}/#/friends`);
  await b.locator('.user-list.friends .user-row', { hasText: userA }).waitFor();
  await snap(b, 'b-friends');
});

await step('chat', [a, b], async () => {
  await a.getByRole('link', { name: `Chat with ${userB}` }).click();
  await b.getByRole('link', { name: `Chat with ${userA}` }).click();
  const hello = `hello from A ${run}`;
  const reply = `hi A, B here ${run}`;
  await a.getByLabel('Write a message').fill(hello);
  await a.getByRole('button', { name: 'Send' }).click();
  await b.locator('.messages li.theirs', { hasText: hello }).waitFor();
  await b.getByLabel('Write a message').fill(reply);
  await b.getByRole('button', { name: 'Send' }).click();
  await a.locator('.messages li.theirs', { hasText: reply }).waitFor();
  const hello2 = `and again ${run}`;
  await a.getByLabel('Write a message').fill(hello2);
  await a.getByLabel('Write a message').press('Enter'); // keyboard: Enter submits
  await b.locator('.messages li', { hasText: hello2 }).waitFor();
  // Let several 2-second polls go by: each message must still be there exactly once.
  await a.waitForTimeout(6500);
  for (const [who, p] of [['A', a], ['B', b]]) {
    for (const text of [hello, reply, hello2]) {
      expectEq(await p.locator('.messages li', { hasText: text }).count(), 1, `${who}'s count of "${text}"`);
    }
    expectEq(await p.locator('.messages li').count(), 3, `${who}'s number of messages`);
  }
  // What the server sent: 3 messages reach each side, and no poll brought one again.
  if ((await assertChatNoRepeats()) < 2) throw new Error('fewer chat replies with messages than the messages exchanged');
  await snap(a, 'chat-a');
  await snap(b, 'chat-b');
});

await step('friend-list-last-message', [a], async () => {
  await a.goto(`${BASE}/#/friends`);
  await a.locator('.user-row', { hasText: userB }).locator('.last-message', { hasText: `You: and again ${run}` }).waitFor();
});

await step('logout', [a], async () => {
  await a.goto(`${BASE}/#/me`);
  await a.getByRole('button', { name: 'Log out' }).click();
  await a.waitForFunction(() => location.hash === '#/login' && !localStorage.getItem('doutok.session'));
  await snap(a, 'logged-out');
});

await step('raw-replies', [a, b], async () => {
  // Every feed and chat reply of the whole run, A's included.
  await assertFeedNoRepeats();
  await assertChatNoRepeats();
});

await step('no-page-errors', [a, b], async () => {
  if (pageErrors.length) throw new Error(`uncaught errors in the page:\n  ${pageErrors.join('\n  ')}`);
});

await finish(0);
