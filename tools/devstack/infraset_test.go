package devstack

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Each set has the same component names and scopes; only the kafka-s3 set's own files replace
// the local ones, and every variable they name is given.
func TestComponentSetsRender(t *testing.T) {
	for _, set := range []string{"", InfraLocal, InfraKafkaS3} {
		s := &Stack{cfg: Config{Root: repoRoot(t), DataDir: t.TempDir(), Infra: set, RedisPort: 1, KafkaPort: 2, S3Port: 3},
			s3Access: "a", s3Secret: "b"}
		if err := s.renderDaprResources(); err != nil {
			t.Fatalf("set %q: %v", set, err)
		}
		entries, err := os.ReadDir(s.renderedComponentsDir())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		want := []string{"media.yaml", "pubsub.yaml", "resiliency.yaml", "secretstore.yaml", "statestore.yaml"}
		if !slices.Equal(names, want) {
			t.Fatalf("set %q renders %v, want %v", set, names, want)
		}
		pubsub, _ := os.ReadFile(filepath.Join(s.renderedComponentsDir(), "pubsub.yaml"))
		media, _ := os.ReadFile(filepath.Join(s.renderedComponentsDir(), "media.yaml"))
		kafka := set == InfraKafkaS3
		if strings.Contains(string(pubsub), "type: pubsub.kafka") != kafka || strings.Contains(string(media), "type: bindings.aws.s3") != kafka {
			t.Fatalf("set %q: wrong component types:\n%s\n%s", set, pubsub, media)
		}
		if kafka && (!strings.Contains(string(pubsub), "127.0.0.1:2") || !strings.Contains(string(media), "http://127.0.0.1:3")) {
			t.Fatalf("set %q: ports not rendered:\n%s\n%s", set, pubsub, media)
		}
	}
}

func TestUnknownComponentSet(t *testing.T) {
	s := &Stack{cfg: Config{Root: repoRoot(t), Infra: "kafka"}}
	if err := s.checkInfraSet(); err == nil {
		t.Fatal("an unknown set was accepted")
	}
}
