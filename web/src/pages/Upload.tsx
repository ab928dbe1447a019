// Publish a video: a title and a file, with the upload's progress. After the bytes are sent the
// server still checks and converts the video, so 100% is followed by "Processing".
import { useState } from 'preact/hooks';
import { api, type Session } from '../api';
import { ErrorText, useAction } from '../ui';

export function Upload({ session }: { session: Session }) {
  const [title, setTitle] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [done, setDone] = useState('');
  const { run, busy, error, setError } = useAction();

  function submit(e: Event) {
    e.preventDefault();
    if (!file) return setError(new Error('Choose a video file first.'));
    const form = e.currentTarget as HTMLFormElement;
    run(async () => {
      setDone('');
      setProgress(0);
      try {
        await api.publish(file, title.trim(), setProgress);
      } catch (err) {
        setProgress(null); // no bar: the error (the server's status_msg, e.g. not a video) says why
        throw err;
      }
      setDone(title.trim());
      setTitle('');
      setFile(null);
      form.reset();
    });
  }

  const pct = Math.round((progress ?? 0) * 100);
  return (
    <main class="page narrow">
      <h1>Upload a video</h1>
      <form class="stack" onSubmit={submit} aria-label="Upload a video">
        <label>
          Title
          <input name="title" required maxLength={100} value={title} disabled={busy}
            onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <label>
          Video file
          <input name="data" type="file" accept="video/*" required disabled={busy}
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        </label>
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Uploading…' : 'Publish'}</button>
      </form>
      {/* Stays at 100% while the server works, and after it accepted the video. */}
      {progress !== null && (
        <div class="upload-progress" role="status">
          <progress id="upload-progress" max={100} value={pct} aria-label="Upload progress" />
          <span class="upload-percent">{pct}%</span>
          {pct >= 100 && busy && <span> — processing the video on the server…</span>}
        </div>
      )}
      <ErrorText error={error} />
      {done && (
        <p class="success" role="status">
          Published “{done}”. <a href={`#/user/${session.userId}`}>See it on your profile</a>.
        </p>
      )}
    </main>
  );
}
