package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// demoPassword is the password of the demo accounts a first local run creates. It protects
// nothing: the accounts exist only in a local data folder.
const demoPassword = "doutok-demo"

// demoVideos are generated with ffmpeg's built-in sources, so no media is committed.
var demoVideos = []struct{ author, title, source string }{
	{"demo_alice", "Test pattern, but make it art", "testsrc2=size=540x960:rate=25"},
	{"demo_bob", "Mandelbrot zoom", "mandelbrot=size=540x960:rate=25"},
	{"demo_alice", "Colour bars at dawn", "smptehdbars=size=540x960:rate=25"},
	{"demo_carol", "Game of life", "life=size=540x960:rate=25:mold=10:ratio=0.3:death_color=#202040:life_color=#40e0d0"},
	{"demo_bob", "Cellular automaton, rule 110", "cellauto=size=540x960:rate=25:rule=110"},
}

// demoFollows are who follows whom among the demo users: alice and bob are friends (they follow
// each other), carol follows alice.
var demoFollows = [][2]string{{"demo_alice", "demo_bob"}, {"demo_bob", "demo_alice"}, {"demo_carol", "demo_alice"}}

// demoMessages are a first chat between the two friends.
var demoMessages = []struct{ from, to, content string }{
	{"demo_bob", "demo_alice", "Loved the colour bars!"},
	{"demo_alice", "demo_bob", "Thanks! Your Mandelbrot zoom is hypnotic."},
}

// SeedDemo fills an empty local install with a few demo users, short videos, follows and a chat
// through the public API, once: a marker file in the data folder remembers it was done.
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
	accounts := map[string]demoUser{}
	for i, v := range demoVideos {
		if accounts[v.author].token == "" {
			if accounts[v.author], err = s.demoAccount(ctx, v.author); err != nil {
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
		if err := s.Upload(ctx, accounts[v.author].token, v.title, path); err != nil {
			return err
		}
	}
	for _, f := range demoFollows {
		if err := s.Follow(ctx, accounts[f[0]].token, accounts[f[1]].id); err != nil {
			return err
		}
	}
	for _, m := range demoMessages {
		if err := s.SendMessage(ctx, accounts[m.from].token, accounts[m.to].id, m.content); err != nil {
			return err
		}
	}
	return os.WriteFile(marker, []byte(time.Now().Format(time.RFC3339)+"\n"), 0o644)
}

type demoUser struct {
	id    int64
	token string
}

// demoAccount registers name, or logs in when it already exists.
func (s *Stack) demoAccount(ctx context.Context, name string) (demoUser, error) {
	id, token, err := s.Register(ctx, name, demoPassword)
	if errors.Is(err, errRefused) {
		id, token, err = s.Login(ctx, name, demoPassword)
	}
	if err != nil {
		return demoUser{}, fmt.Errorf("demo account %s: %w", name, err)
	}
	return demoUser{id: id, token: token}, nil
}
