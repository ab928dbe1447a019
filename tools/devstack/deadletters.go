package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// apiTokenFile keeps the running stack's Dapr API token, readable by its owner only, so that
// commands run beside `make run` (ReplayDeadLetters) can call the sidecars.
func (c Config) apiTokenFile() string { return filepath.Join(c.DataDir, "dapr-api-token") }

func (s *Stack) writeAPIToken() error {
	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(s.cfg.apiTokenFile(), []byte(s.apiToken), 0o600)
}

// ReplayDeadLetters asks every service that keeps dead letters, on the stack running with cfg,
// to publish them to their topics again, and returns how many each replayed.
func ReplayDeadLetters(ctx context.Context, cfg Config) (map[string]int, error) {
	token, err := os.ReadFile(cfg.apiTokenFile())
	if err != nil {
		return nil, fmt.Errorf("is the stack running? %w", err)
	}
	replayed := map[string]int{}
	for i, svc := range Services {
		if !svc.DeadLetters {
			continue
		}
		// The method is delayed.ReplayPath.
		url := fmt.Sprintf("http://127.0.0.1:%d/v1.0/invoke/%s/method/dead-letters/replay", cfg.PortsOf(i).DaprHTTP, svc.Name)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("dapr-api-token", strings.TrimSpace(string(token)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return replayed, fmt.Errorf("%s: %w", svc.Name, err)
		}
		var reply struct {
			StatusCode int    `json:"status_code"`
			StatusMsg  string `json:"status_msg"`
			Replayed   int    `json:"replayed"`
		}
		err = json.NewDecoder(resp.Body).Decode(&reply)
		resp.Body.Close()
		if err != nil || reply.StatusCode != 0 {
			return replayed, fmt.Errorf("%s: HTTP %d %s %v", svc.Name, resp.StatusCode, reply.StatusMsg, err)
		}
		replayed[svc.Name] = reply.Replayed
	}
	return replayed, nil
}
