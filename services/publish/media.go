package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/doutok/doutok/services/internal/apperr"
)

// probeTimeout bounds each ffprobe/ffmpeg run, so a hostile file cannot hold a worker forever.
const probeTimeout = 2 * time.Minute

// probe is what ffprobe tells of an upload.
type probe struct {
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
	Streams []struct {
		CodecType string `json:"codec_type"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
}

func (p probe) duration() float64 {
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	return d
}

// inspect checks that path is a video ffprobe can read: a container with a video stream that has
// a picture size. Anything else (text, images, audio, truncated files) is InvalidVideo.
func inspect(ctx context.Context, path string) (probe, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-print_format", "json",
		"-show_entries", "format=format_name,duration:stream=codec_type,width,height", path).Output()
	if err != nil {
		return probe{}, apperr.Wrap(apperr.InvalidVideo, fmt.Errorf("ffprobe: %w", err))
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		return probe{}, apperr.Wrap(apperr.InvalidVideo, err)
	}
	// Single images (png, jpeg, gif) probe as one-frame "videos"; they are not uploads we accept.
	switch {
	case strings.Contains(p.Format.FormatName, "_pipe"), p.Format.FormatName == "image2", p.Format.FormatName == "gif":
		return probe{}, apperr.New(apperr.InvalidVideo)
	}
	for _, s := range p.Streams {
		if s.CodecType == "video" && s.Width > 0 && s.Height > 0 {
			return p, nil
		}
	}
	return probe{}, apperr.New(apperr.InvalidVideo)
}

// extractCover writes a JPEG of the frame near 1 s (or the first frame of a shorter clip) to
// coverPath. Decoding that frame is also the proof that the video really decodes.
func extractCover(ctx context.Context, videoPath, coverPath string, p probe) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	at := "0"
	if p.duration() > 1.0 {
		at = "1"
	}
	for _, seek := range []string{at, "0"} {
		cmd := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-y", "-ss", seek, "-i", videoPath,
			"-frames:v", "1", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", coverPath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil {
			if info, err := os.Stat(coverPath); err == nil && info.Size() > 0 {
				return nil
			}
		}
	}
	return apperr.Wrap(apperr.InvalidVideo, fmt.Errorf("no frame could be decoded"))
}

// streamable returns the file to store and its extension: MP4/MOV uploads are remuxed (without
// re-encoding) with the index at the front so players can start and seek before the download
// ends; other containers are kept as uploaded.
func streamable(ctx context.Context, videoPath string, p probe) (string, string) {
	name := p.Format.FormatName
	if strings.Contains(name, "mp4") || strings.Contains(name, "mov") {
		out := filepath.Join(filepath.Dir(videoPath), "remuxed.mp4")
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-y", "-i", videoPath, "-map", "0",
			"-c", "copy", "-movflags", "+faststart", out).Run()
		if err == nil {
			return out, ".mp4"
		}
		return videoPath, ".mp4"
	}
	switch {
	case strings.Contains(name, "webm"), strings.Contains(name, "matroska"):
		return videoPath, ".webm"
	case strings.Contains(name, "avi"):
		return videoPath, ".avi"
	case strings.Contains(name, "mpegts"):
		return videoPath, ".ts"
	case strings.Contains(name, "flv"):
		return videoPath, ".flv"
	default:
		return videoPath, ".video"
	}
}
