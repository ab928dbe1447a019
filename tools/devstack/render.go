package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The Dapr resources in components/ and dapr/config.yaml name their machine-specific values as
// ${VARIABLE}; they are rendered into the data folder with this stack's values. The component
// names and types stay the same in every environment.

func (s *Stack) renderedComponentsDir() string {
	return filepath.Join(s.cfg.DataDir, "dapr", "components")
}
func (s *Stack) renderedConfigPath() string {
	return filepath.Join(s.cfg.DataDir, "dapr", "config.yaml")
}

// MediaDir is the local media binding's folder.
func (s *Stack) MediaDir() string { return filepath.Join(s.cfg.DataDir, "media") }

func (s *Stack) renderDaprResources() error {
	secrets, err := s.ensureSecretsFile()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.MediaDir(), 0o755); err != nil {
		return err
	}
	vars := map[string]string{
		"REDIS_ADDR":         "127.0.0.1:" + strconv.Itoa(s.cfg.RedisPort),
		"MEDIA_DIR":          s.MediaDir(),
		"SECRETS_FILE":       secrets,
		"NAME_RESOLUTION_DB": filepath.Join(s.cfg.DataDir, "dapr", "nameresolution.db"),
	}
	for k, v := range s.infraSetVars() {
		vars[k] = v
	}
	outDir := s.renderedComponentsDir()
	if err := os.RemoveAll(outDir); err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	components, err := s.componentFiles()
	if err != nil {
		return err
	}
	for _, src := range components {
		if err := renderFile(src, filepath.Join(outDir, filepath.Base(src)), vars); err != nil {
			return err
		}
	}
	return renderFile(filepath.Join(s.cfg.Root, "dapr", "config.yaml"), s.renderedConfigPath(), vars)
}

func renderFile(src, dst string, vars map[string]string) error {
	raw, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var missing []string
	out := os.Expand(string(raw), func(name string) string {
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return fmt.Errorf("%s uses unknown variables %s", src, strings.Join(missing, ", "))
	}
	return os.WriteFile(dst, []byte(out), 0o644)
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
