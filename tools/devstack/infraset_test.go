package devstack

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Each set's folder holds the same component names and scopes; only the types differ, and every
// variable the sets read with envRef is given to the sidecars.
func TestComponentSets(t *testing.T) {
	names := func(dir string) (names []string, byName map[string]string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		byName = map[string]string{}
		for _, e := range entries {
			body, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, e.Name())
			byName[e.Name()] = string(body)
		}
		return names, byName
	}
	envRef := regexp.MustCompile(`envRef: (\w+)`)
	scopes := regexp.MustCompile(`(?s)\nscopes:\n.*`)
	var local map[string]string
	for _, set := range []string{InfraLocal, InfraKafkaS3} {
		s := &Stack{cfg: Config{Root: repoRoot(t), DataDir: t.TempDir(), Infra: set, RedisPort: 1, KafkaPort: 2, S3Port: 3},
			s3Access: "a", s3Secret: "b"}
		vars, err := s.prepareDaprResources()
		if err != nil {
			t.Fatalf("set %q: %v", set, err)
		}
		paths := s.resourcePaths()
		common, commonFiles := names(paths[0])
		if want := []string{"resiliency.yaml", "secretstore.yaml", "statestore.yaml"}; !slices.Equal(common, want) {
			t.Fatalf("common resources %v, want %v", common, want)
		}
		own, files := names(paths[1])
		if want := []string{"media.yaml", "pubsub.yaml"}; !slices.Equal(own, want) {
			t.Fatalf("set %q has %v, want %v", set, own, want)
		}
		kafka := set == InfraKafkaS3
		if strings.Contains(files["pubsub.yaml"], "type: pubsub.kafka") != kafka || strings.Contains(files["media.yaml"], "type: bindings.aws.s3") != kafka {
			t.Fatalf("set %q: wrong component types:\n%s\n%s", set, files["pubsub.yaml"], files["media.yaml"])
		}
		for name, body := range mergeMaps(commonFiles, files) {
			for _, m := range envRef.FindAllStringSubmatch(body, -1) {
				if vars[m[1]] == "" {
					t.Errorf("set %q: %s reads %s, which the sidecars are not given", set, name, m[1])
				}
			}
		}
		if local == nil {
			local = files
			continue
		}
		for name, body := range files {
			if scopes.FindString(body) != scopes.FindString(local[name]) || !strings.Contains(body, "name: "+strings.TrimSuffix(name, ".yaml")+"\n") {
				t.Errorf("set %q: %s differs from the local set's in name or scopes", set, name)
			}
		}
	}
}

func mergeMaps(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

func TestUnknownComponentSet(t *testing.T) {
	s := &Stack{cfg: Config{Root: repoRoot(t), Infra: "kafka"}}
	if err := s.checkInfraSet(); err == nil {
		t.Fatal("an unknown set was accepted")
	}
}

// The broker records every topic the services publish at its first start (kafkaTopics): a topic
// added to a service's API package must be added to eventTopics too.
func TestKafkaTopicsAreTheServicesTopics(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "services", "internal", "*api", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	constant := regexp.MustCompile(`(?m)^const Topic\w+ = "([^"]+)"`)
	var published []string
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range constant.FindAllStringSubmatch(string(body), -1) {
			published = append(published, m[1])
		}
	}
	slices.Sort(published)
	listed := slices.Sorted(slices.Values(eventTopics))
	if len(published) == 0 || !slices.Equal(published, listed) {
		t.Fatalf("the services publish %v; eventTopics lists %v", published, listed)
	}
}
