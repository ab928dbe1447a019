package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func mp4Probe(streams ...stream) probe {
	var p probe
	p.Format.FormatName = "mov,mp4,m4a,3gp,3g2,mj2"
	p.Streams = streams
	return p
}

var (
	h264Stream = stream{Index: 0, CodecType: "video", CodecName: "h264", Profile: "High", PixFmt: "yuv420p", Width: 1080, Height: 1920}
	aacStream  = stream{Index: 1, CodecType: "audio", CodecName: "aac", Profile: "LC"}
)

// codecs returns the -c:v and -c:a values of ffmpeg's arguments ("" when absent).
func codecs(args []string) (video, audio string) {
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-c:v":
			video = args[i+1]
		case "-c:a":
			audio = args[i+1]
		}
	}
	return video, audio
}

func TestConvertCopiesOnlyWhatBrowsersPlayFromAnMP4(t *testing.T) {
	with := func(s stream, change func(*stream)) stream { change(&s); return s }
	webm := mp4Probe(with(h264Stream, func(s *stream) {}), with(aacStream, func(s *stream) { s.CodecName = "opus" }))
	webm.Format.FormatName = "matroska,webm"
	cases := []struct {
		name         string
		p            probe
		video, audio string
	}{
		{"H.264 and AAC in MP4 are copied", mp4Probe(h264Stream, aacStream), "copy", "copy"},
		{"no audio, no audio codec", mp4Probe(h264Stream), "copy", ""},
		{"MP3 audio is encoded, the video copied", mp4Probe(h264Stream, with(aacStream, func(s *stream) { s.CodecName = "mp3" })), "copy", "aac"},
		{"other containers are encoded", webm, "libx264", "aac"},
		{"HEVC is encoded", mp4Probe(with(h264Stream, func(s *stream) { s.CodecName = "hevc" })), "libx264", ""},
		{"10-bit H.264 is encoded", mp4Probe(with(h264Stream, func(s *stream) { s.Profile, s.PixFmt = "High 10", "yuv420p10le" })), "libx264", ""},
		{"4:4:4 H.264 is encoded", mp4Probe(with(h264Stream, func(s *stream) { s.Profile, s.PixFmt = "High 4:4:4 Predictive", "yuv444p" })), "libx264", ""},
		{"4K H.264 is scaled down", mp4Probe(with(h264Stream, func(s *stream) { s.Width, s.Height = 3840, 2160 })), "libx264", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := convertArgs("/in", "/out.mp4", c.p)
			if v, a := codecs(args); v != c.video || a != c.audio {
				t.Fatalf("video %q audio %q, want %q %q: %v", v, a, c.video, c.audio, args)
			}
			if !slices.Contains(args, "+faststart") || args[len(args)-1] != "file:/out.mp4" || args[len(args)-2] != "mp4" {
				t.Fatalf("not a faststart MP4 output: %v", args)
			}
		})
	}
}

func TestConvertMapsTheVideoNotACoverPicture(t *testing.T) {
	cover := stream{Index: 0, CodecType: "video", CodecName: "mjpeg", Width: 600, Height: 600}
	cover.Disposition.AttachedPic = 1
	video := h264Stream
	video.Index = 2
	args := strings.Join(convertArgs("/in", "/out.mp4", mp4Probe(cover, aacStream, video)), " ")
	if !strings.Contains(args, "-map 0:2") || strings.Contains(args, "-map 0:0") {
		t.Fatalf("maps %s", args)
	}
	if _, ok := mp4Probe(cover, aacStream).video(); ok {
		t.Fatal("an audio file with a cover picture counts as a video")
	}
}

func TestInputsAreOpenedUnderTheAllowlists(t *testing.T) {
	args := strings.Join(input("/tmp/a:b"), " ")
	for _, want := range []string{"-protocol_whitelist file ", "-format_whitelist " + videoFormats, "-max_pixels ", "-threads 2 ", "-i file:/tmp/a:b"} {
		if !strings.Contains(args, want) {
			t.Fatalf("%q lacks %q", args, want)
		}
	}
	for _, demuxer := range []string{"hls", "dash", "concat", "image2", "tty", "lavfi"} {
		if slices.Contains(strings.Split(videoFormats, ","), demuxer) {
			t.Fatalf("%s is allowed", demuxer)
		}
	}
}

func TestFirstBytesKeepsTheStart(t *testing.T) {
	f := &firstBytes{max: 5}
	for _, s := range []string{"abc", "defg", "hij"} {
		if n, err := f.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if string(f.b) != "abcde" {
		t.Fatalf("kept %q", f.b)
	}
}

func TestToolsAreKilledAtTheirDeadline(t *testing.T) {
	if checkTools() != nil {
		t.Skip("ffmpeg or prlimit missing")
	}
	// An endless generated input, so only the deadline ends it.
	start := time.Now()
	_, err := runTool(context.Background(), time.Second, "ffmpeg", "-nostdin", "-re", "-f", "lavfi", "-i", "testsrc2", "-f", "null", "-")
	if err == nil || !strings.Contains(err.Error(), "deadline") || time.Since(start) > 10*time.Second {
		t.Fatalf("after %s: %v", time.Since(start), err)
	}
}
