package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// The Dapr resources in components/ and dapr/config.yaml are used as they are, by devstack and by a
// stock daprd or `dapr run` alike. The components read their machine-specific values from the
// sidecar's environment (envRef); daprEnv gives each sidecar this stack's values. The
// Configuration's name-resolution file is a relative path, opened in the sidecar's working
// directory (the data folder here).

func (s *Stack) componentsDir() string { return filepath.Join(s.cfg.Root, "components") }
func (s *Stack) configPath() string    { return filepath.Join(s.cfg.Root, "dapr", "config.yaml") }

// MediaDir is the local media binding's folder.
func (s *Stack) MediaDir() string { return filepath.Join(s.cfg.DataDir, "media") }

// prepareDaprResources creates what the components point at (the secrets file, the media folder)
// and returns the environment variables their envRef entries name.
func (s *Stack) prepareDaprResources() (map[string]string, error) {
	secrets, err := s.ensureSecretsFile()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.MediaDir(), 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(s.configPath()); err != nil {
		return nil, err
	}
	if components, err := filepath.Glob(filepath.Join(s.componentsDir(), "*.yaml")); err != nil {
		return nil, err
	} else if len(components) == 0 {
		return nil, fmt.Errorf("no component files in %s", s.componentsDir())
	}
	return map[string]string{
		"REDIS_ADDR":   "127.0.0.1:" + strconv.Itoa(s.cfg.RedisPort),
		"MEDIA_DIR":    s.MediaDir(),
		"SECRETS_FILE": secrets,
	}, nil
}

// ensureSecretsFile creates the local secret store's file on first start with a random token
// signing key. It lives only in the data folder: there is no signing key in the repository, and
// tokens survive restarts because the file is kept.
func (s *Stack) ensureSecretsFile() (string, error) {
	path := filepath.Join(s.cfg.DataDir, "secrets.json")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(s.cfg.DataDir, "dapr"), 0o755); err != nil {
		return "", err
	}
	body, _ := json.MarshalIndent(map[string]string{"token-signing-key": randomHex(32)}, "", "  ")
	return path, os.WriteFile(path, body, 0o600)
}
