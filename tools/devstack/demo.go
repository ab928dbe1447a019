package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// DemoPassword is the password of the demo accounts a first local run creates. It protects
// nothing: the accounts exist only in a local data folder.
const DemoPassword = "doutok-demo"

// demoVideos are generated with ffmpeg's built-in sources, so no media is committed.
var demoVideos = []struct{ author, title, source string }{
	{"demo_alice", "Test pattern, but make it art", "testsrc2=size=540x960:rate=25"},
	{"demo_bob", "Mandelbrot zoom", "mandelbrot=size=540x960:rate=25"},
	{"demo_alice", "Colour bars at dawn", "smptehdbars=size=540x960:rate=25"},
	{"demo_carol", "Game of life", "life=size=540x960:rate=25:mold=10:ratio=0.3:death_color=#202040:life_color=#40e0d0"},
	{"demo_bob", "Cellular automaton, rule 110", "cellauto=size=540x960:rate=25:rule=110"},
}

// SeedDemo fills an empty local install with a few demo users and short videos through the public
// API, once: a marker file in the data folder remembers it was done.
func (s *Stack) SeedDemo(ctx context.Context) error {
	marker := filepath.Join(s.cfg.DataDir, "demo-seeded")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	work, err := os.MkdirTemp("", "doutok-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	tokens := map[string]string{}
	for i, v := range demoVideos {
		if tokens[v.author] == "" {
			if tokens[v.author], err = s.demoAccount(ctx, v.author); err != nil {
				return err
			}
		}
		path := filepath.Join(work, fmt.Sprintf("demo-%d.mp4", i))
		gen := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", v.source,
			"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:duration=4", 330+110*i),
			"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", "4", path)
		if out, err := gen.CombinedOutput(); err != nil {
			return fmt.Errorf("generate demo video: %v: %s", err, out)
		}
		if err := s.demoUpload(ctx, tokens[v.author], v.title, path); err != nil {
			return err
		}
	}
	return os.WriteFile(marker, []byte(time.Now().Format(time.RFC3339)+"\n"), 0o644)
}

// demoAccount registers name, or logs in when it already exists.
func (s *Stack) demoAccount(ctx context.Context, name string) (string, error) {
	cred := url.Values{"username": {name}, "password": {DemoPassword}}
	for _, path := range []string{"/douyin/user/register/", "/douyin/user/login/"} {
		var out struct {
			StatusCode int    `json:"status_code"`
			StatusMsg  string `json:"status_msg"`
			Token      string `json:"token"`
		}
		if err := s.demoCall(ctx, path+"?"+cred.Encode(), "", nil, &out); err != nil {
			return "", err
		}
		if out.StatusCode == 0 {
			return out.Token, nil
		}
	}
	return "", fmt.Errorf("demo account %s: neither register nor login worked", name)
}

func (s *Stack) demoUpload(ctx context.Context, token, title, path string) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("token", token)
	_ = mw.WriteField("title", title)
	part, _ := mw.CreateFormFile("data", filepath.Base(path))
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(part, f); err != nil {
		return err
	}
	_ = mw.Close()
	var out struct {
		StatusCode int    `json:"status_code"`
		StatusMsg  string `json:"status_msg"`
	}
	if err := s.demoCall(ctx, "/douyin/publish/action/", mw.FormDataContentType(), &body, &out); err != nil {
		return err
	}
	if out.StatusCode != 0 {
		return fmt.Errorf("demo upload %q: %d %s", title, out.StatusCode, out.StatusMsg)
	}
	return nil
}

func (s *Stack) demoCall(ctx context.Context, pathAndQuery, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.PublicURL()+pathAndQuery, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return errors.Join(fmt.Errorf("demo call %s: HTTP %d", req.URL.Path, resp.StatusCode), err)
	}
	return nil
}
