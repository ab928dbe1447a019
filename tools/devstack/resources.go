package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
)

// The Dapr resources in components/ and dapr/config.yaml are used as they are, by devstack and by a
// stock daprd or `dapr run` alike. Every sidecar reads two resource folders: components/common and
// the component set's own (components/local or components/kafka-s3, infraset.go). The components
// read their machine-specific values from the sidecar's environment (envRef); the Configuration
// names its one value as ${NAME_RESOLUTION_DB}, which daprd itself expands from its environment
// when it loads a standalone --config file. prepareDaprResources returns those variables, and
// every sidecar gets them.

// resourcePaths are the sidecars' --resources-path folders, common first.
func (s *Stack) resourcePaths() []string {
	base := filepath.Join(s.cfg.Root, "components")
	return []string{filepath.Join(base, "common"), filepath.Join(base, s.cfg.ComponentSet())}
}

func (s *Stack) configPath() string { return filepath.Join(s.cfg.Root, "dapr", "config.yaml") }

// TyeResourcesDir is the one folder tye/tye.yaml gives every sidecar: tye's Dapr extension passes
// a single --components-path, and looks for the Configuration in it as <config>.yaml.
func (s *Stack) TyeResourcesDir() string { return filepath.Join(s.cfg.DataDir, "tye-resources") }

// tyeConfigName is the Configuration's name in TyeResourcesDir (tye.yaml's `config`).
const tyeConfigName = "doutok"

// joinResourcesForTye links the resource folders' files and dapr/config.yaml into
// TyeResourcesDir, so tye's sidecars read the very files every other run reads.
func (s *Stack) joinResourcesForTye() error {
	dir := s.TyeResourcesDir()
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	links := map[string]string{tyeConfigName + ".yaml": s.configPath()}
	for _, folder := range s.resourcePaths() {
		files, err := filepath.Glob(filepath.Join(folder, "*.yaml"))
		if err != nil {
			return err
		}
		for _, f := range files {
			links[filepath.Base(folder)+"-"+filepath.Base(f)] = f
		}
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// MediaDir is the local media binding's folder.
func (s *Stack) MediaDir() string { return filepath.Join(s.cfg.DataDir, "media") }

// prepareDaprResources creates what the Dapr resources point at (the secrets file, the media and
// name-resolution folders) and returns the variables they read from the sidecar's environment.
func (s *Stack) prepareDaprResources() (map[string]string, error) {
	secrets, err := s.ensureSecretsFile()
	if err != nil {
		return nil, err
	}
	nameResolutionDB := filepath.Join(s.cfg.DataDir, "dapr", "nameresolution.db")
	for _, dir := range []string{s.MediaDir(), filepath.Dir(nameResolutionDB)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(s.configPath()); err != nil {
		return nil, err
	}
	for _, dir := range s.resourcePaths() {
		if components, err := filepath.Glob(filepath.Join(dir, "*.yaml")); err != nil {
			return nil, err
		} else if len(components) == 0 {
			return nil, fmt.Errorf("no component files in %s", dir)
		}
	}
	vars := map[string]string{
		"REDIS_ADDR":   "127.0.0.1:" + strconv.Itoa(s.cfg.RedisPort),
		"MEDIA_DIR":    s.MediaDir(),
		"SECRETS_FILE": secrets,
		// Shared by every sidecar of the stack: they find each other in it.
		"NAME_RESOLUTION_DB": nameResolutionDB,
		// Where the sidecars export spans (dapr/config.yaml); empty: nowhere.
		"TRACE_ZIPKIN_URL": s.cfg.TraceZipkinURL,
	}
	maps.Copy(vars, s.infraSetVars())
	return vars, nil
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
