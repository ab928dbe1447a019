package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/doutok/doutok/services/internal/apperr"
)

// What ffprobe and ffmpeg may open. Uploads are hostile input to a large C library, so:
//   - videoFormats lists the only demuxers allowed: real video containers ("mov" is also the mp4,
//     3gp and m4a demuxer, "matroska" also webm). Playlists (hls, dash), concat lists, image
//     sequences and text formats are refused: they read other files or URLs, or are not videos.
//   - only the file protocol is allowed, so nothing inside a file can reach the network;
//   - decoders refuse pictures over maxPixels (4K UHD and DCI fit) and any single allocation over
//     maxAlloc, before a forged header makes them allocate gigabytes.
const (
	videoFormats = "mov,mp4,matroska,webm,avi,flv,mpegts,mpeg"
	maxPixels    = 4096 * 2304
	maxAlloc     = 256 << 20
)

// Limits of every ffprobe/ffmpeg child. The address space (virtual: shared libraries included)
// fits a decode at maxPixels plus a 1080p encode on toolThreads threads: even 4096x4096 frames
// fit, at 530 MiB resident. The file size guards the disk; the CPU time is a backstop for a child
// whose parent died before its deadline.
const (
	toolThreads   = 2
	toolMemory    = 1 << 30
	toolFileSize  = 512 << 20
	toolNiceness  = "10"
	probeDeadline = 30 * time.Second
	// convertDeadline bounds a transcode; with the probe and the cover it stays inside the
	// publish call's processing time (publishapi.UploadDeadlines).
	convertDeadline = 3 * time.Minute
	coverDeadline   = 30 * time.Second
)

// The stored video: H.264 in MP4 (what every browser and phone plays), no side over maxSide.
const maxSide = 1920

// checkTools fails at start-up when a program the uploads need is missing, instead of refusing
// every upload as an invalid video.
func checkTools() error {
	for _, name := range []string{"ffprobe", "ffmpeg", "prlimit", "nice"} {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("publish needs %s (scripts/install-deps.sh installs it): %w", name, err)
		}
	}
	return nil
}

// runTool runs ffprobe or ffmpeg under the limits above and returns its standard output.
//
// The limits are set by prlimit(1) (util-linux), which applies them to itself and then execs the
// tool: Go cannot set resource limits on a child alone, and setting them on this process would
// bind the server too. nice(1) lets request handling win the CPU over a transcode. The child
// gets its own process group, killed whole at the deadline, so nothing outlives it.
func runTool(ctx context.Context, deadline time.Duration, tool string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	limited := append([]string{
		"--as=" + strconv.Itoa(toolMemory),
		"--fsize=" + strconv.Itoa(toolFileSize),
		"--cpu=" + strconv.Itoa(toolThreads*int(deadline.Seconds())),
		"--", "nice", "-n", toolNiceness, tool,
		"-v", "error", "-max_alloc", strconv.Itoa(maxAlloc),
	}, args...)
	cmd := exec.CommandContext(ctx, "prlimit", limited...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	stderr := &firstBytes{max: 2 << 10}
	cmd.Stderr = stderr
	out, err := cmd.Output()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("%s: killed at its %s deadline", tool, deadline)
	case err != nil:
		return nil, fmt.Errorf("%s: %w: %s", tool, err, stderr.b)
	}
	return out, nil
}

// firstBytes keeps the first max bytes written to it: enough of a tool's complaint for the log,
// however much a broken file makes it print.
type firstBytes struct {
	b   []byte
	max int
}

func (f *firstBytes) Write(p []byte) (int, error) {
	if room := f.max - len(f.b); room > 0 {
		f.b = append(f.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// input is the options that open path under the allowlists, for ffprobe and ffmpeg alike. The
// "file:" prefix keeps a colon in the path from being read as a protocol.
func input(path string) []string {
	return []string{"-protocol_whitelist", "file", "-format_whitelist", videoFormats,
		"-max_pixels", strconv.Itoa(maxPixels), "-threads", strconv.Itoa(toolThreads), "-i", "file:" + path}
}

// stream is one stream as ffprobe describes it.
type stream struct {
	Index       int    `json:"index"`
	CodecType   string `json:"codec_type"`
	CodecName   string `json:"codec_name"`
	Profile     string `json:"profile"`
	PixFmt      string `json:"pix_fmt"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Disposition struct {
		AttachedPic int `json:"attached_pic"`
	} `json:"disposition"`
}

// probe is what ffprobe tells of an upload.
type probe struct {
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
	Streams []stream `json:"streams"`
}

func (p probe) duration() float64 {
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	return d
}

// video is the first video stream with a picture size; a cover picture attached to an audio file
// is not one.
func (p probe) video() (stream, bool) {
	for _, s := range p.Streams {
		if s.CodecType == "video" && s.Width > 0 && s.Height > 0 && s.Disposition.AttachedPic == 0 {
			return s, true
		}
	}
	return stream{}, false
}

func (p probe) audio() (stream, bool) {
	for _, s := range p.Streams {
		if s.CodecType == "audio" {
			return s, true
		}
	}
	return stream{}, false
}

// inspect checks that path is a video ffprobe can read in an allowed container, with a video
// stream. Anything else (text, playlists, images, audio, truncated files) is InvalidVideo.
func inspect(ctx context.Context, path string) (probe, error) {
	args := append(input(path), "-print_format", "json", "-show_entries",
		"format=format_name,duration:stream=index,codec_type,codec_name,profile,pix_fmt,width,height:stream_disposition=attached_pic")
	out, err := runTool(ctx, probeDeadline, "ffprobe", args...)
	if err != nil {
		return probe{}, apperr.Wrap(apperr.InvalidVideo, err)
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		return probe{}, apperr.Wrap(apperr.InvalidVideo, err)
	}
	if _, ok := p.video(); !ok {
		return probe{}, apperr.Wrap(apperr.InvalidVideo, fmt.Errorf("no video stream in %q", p.Format.FormatName))
	}
	return p, nil
}

// fromMP4 tells whether the upload already is an MP4 or MOV, whose streams can be copied as they
// are. Streams of other containers are encoded again: their timestamps and codec headers are
// not worth trusting to a copy.
func (p probe) fromMP4() bool {
	return p.Format.FormatName == "mov,mp4,m4a,3gp,3g2,mj2"
}

// playableH264 is H.264 that browsers decode (8-bit 4:2:0, the Baseline, Main and High
// profiles) within the stored size.
func playableH264(s stream) bool {
	switch s.Profile {
	case "Constrained Baseline", "Baseline", "Main", "High":
	default:
		return false
	}
	return s.CodecName == "h264" && (s.PixFmt == "yuv420p" || s.PixFmt == "yuvj420p") &&
		s.Width <= maxSide && s.Height <= maxSide
}

// convertArgs are ffmpeg's options to turn the upload at in (described by p) into the MP4 to
// store at out: H.264 video and AAC audio, copied when they already are that in an MP4, encoded
// otherwise; no other streams, no metadata (phones write the place a video was shot), and the
// index first so players start before the download ends.
func convertArgs(in, out string, p probe) []string {
	video, _ := p.video()
	args := append([]string{"-nostdin", "-y"}, input(in)...)
	args = append(args, "-map", "0:"+strconv.Itoa(video.Index))
	if p.fromMP4() && playableH264(video) {
		args = append(args, "-c:v", "copy")
	} else {
		// veryfast: a quarter of medium's time for a little more size; the rate cap keeps the
		// stored file near a phone's own bitrate whatever the source.
		fit := fmt.Sprintf("scale=w='min(%d,iw)':h='min(%d,ih)':force_original_aspect_ratio=decrease:force_divisible_by=2", maxSide, maxSide)
		args = append(args, "-vf", fit, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
			"-maxrate", "5M", "-bufsize", "10M", "-pix_fmt", "yuv420p", "-fpsmax", "60")
	}
	if audio, ok := p.audio(); ok {
		args = append(args, "-map", "0:"+strconv.Itoa(audio.Index))
		if p.fromMP4() && audio.CodecName == "aac" {
			args = append(args, "-c:a", "copy")
		} else {
			args = append(args, "-c:a", "aac", "-b:a", "128k", "-ac", "2")
		}
	}
	return append(args, "-map_metadata", "-1", "-threads", strconv.Itoa(toolThreads),
		"-filter_threads", strconv.Itoa(toolThreads), "-movflags", "+faststart", "-f", "mp4", "file:"+out)
}

// convert writes the MP4 to store. What is stored is always ffmpeg's output, never the uploaded
// bytes, so a file that is a video and something else at once (an HTML page before an MPEG
// stream) loses the something else. An upload that cannot be converted within the limits is
// InvalidVideo.
func convert(ctx context.Context, in, out string, p probe) error {
	if _, err := runTool(ctx, convertDeadline, "ffmpeg", convertArgs(in, out, p)...); err != nil {
		return apperr.Wrap(apperr.InvalidVideo, err)
	}
	return nil
}

// extractCover writes a JPEG of the frame near 1 s (or the first frame of a shorter clip) of the
// stored video to coverPath. Decoding that frame is also the proof that the stored video decodes.
func extractCover(ctx context.Context, videoPath, coverPath string, p probe) error {
	at := "0"
	if p.duration() > 1.0 {
		at = "1"
	}
	var err error
	for _, seek := range []string{at, "0"} {
		args := append([]string{"-nostdin", "-y", "-ss", seek}, input(videoPath)...)
		args = append(args, "-frames:v", "1", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", "file:"+coverPath)
		if _, err = runTool(ctx, coverDeadline, "ffmpeg", args...); err == nil {
			if info, statErr := os.Stat(coverPath); statErr == nil && info.Size() > 0 {
				return nil
			}
			err = fmt.Errorf("ffmpeg wrote no frame at %s s", seek)
		}
	}
	return apperr.Wrap(apperr.InvalidVideo, err)
}
