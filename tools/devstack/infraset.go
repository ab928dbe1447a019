package devstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The component sets. Every sidecar reads two folders: components/common (state store, secret
// store, resiliency) and components/<set>, which holds the set's pubsub and media components.
// The sets' files carry the same component names and scopes, so no Go code changes between them.
const (
	// InfraLocal is the default set: Redis Streams for pub/sub, a local folder for media.
	InfraLocal = "local"
	// InfraKafkaS3 replaces them with pubsub.kafka against a Kafka-protocol broker and
	// bindings.aws.s3 against an S3-compatible server (SigV4), both run by the stack
	// (tools/infra: franz-go's kfake and versitygw's posix backend).
	InfraKafkaS3 = "kafka-s3"
)

// S3Bucket is the media bucket of the kafka-s3 set.
const S3Bucket = "doutok-media"

// ComponentSet returns the stack's component set, InfraLocal when none is named.
func (c Config) ComponentSet() string {
	if c.Infra == "" {
		return InfraLocal
	}
	return c.Infra
}

// checkInfraSet fails on an unknown set and on a set whose servers are not built.
func (s *Stack) checkInfraSet() error {
	switch s.cfg.ComponentSet() {
	case InfraLocal:
		return nil
	case InfraKafkaS3:
		for _, bin := range []string{s.kafkaServerBin(), s.s3ServerBin(), s.s3BucketBin()} {
			if _, err := os.Stat(bin); err != nil {
				return fmt.Errorf("the %s set needs %s (built by `make run INFRA=%s`): %w", InfraKafkaS3, bin, InfraKafkaS3, err)
			}
		}
		if s.cfg.KafkaPort == 0 || s.cfg.S3Port == 0 {
			return fmt.Errorf("the %s set needs KafkaPort and S3Port", InfraKafkaS3)
		}
		return nil
	}
	return fmt.Errorf("unknown component set %q (known: %s, %s)", s.cfg.Infra, InfraLocal, InfraKafkaS3)
}

// infraSetPorts are the ports the set's own servers take.
func (s *Stack) infraSetPorts() map[int]string {
	if s.cfg.ComponentSet() != InfraKafkaS3 {
		return nil
	}
	return map[int]string{s.cfg.KafkaPort: "Kafka broker", s.cfg.S3Port: "S3 server"}
}

// isInfraProc names the processes that the apps and sidecars depend on: stopped after them.
func isInfraProc(name string) bool {
	switch name {
	case "postgres", "redis", "kafka", "s3":
		return true
	}
	return false
}

func (s *Stack) kafkaServerBin() string { return filepath.Join(s.cfg.BinDir, "kafkaserver") }
func (s *Stack) s3ServerBin() string    { return filepath.Join(s.cfg.BinDir, "versitygw") }
func (s *Stack) s3BucketBin() string    { return filepath.Join(s.cfg.BinDir, "s3bucket") }

// startInfraSet starts the set's own servers (none for the local set) and waits until they
// take connections; the sidecars start after them.
func (s *Stack) startInfraSet(ctx context.Context) error {
	if s.cfg.ComponentSet() != InfraKafkaS3 {
		return nil
	}
	if err := s.startKafka(ctx); err != nil {
		return err
	}
	return s.startS3(ctx)
}

// restartInfraSet restarts one of the set's servers after Kill; ok is false for another name.
func (s *Stack) restartInfraSet(ctx context.Context, name string) (ok bool, err error) {
	if s.cfg.ComponentSet() != InfraKafkaS3 {
		return false, nil
	}
	switch name {
	case "kafka":
		return true, s.startKafka(ctx)
	case "s3":
		return true, s.startS3(ctx)
	}
	return false, nil
}

// eventTopics are the topics the services publish (the Topic… constants of their API packages,
// services/internal/*api), each with its dead-letter topic.
var eventTopics = []string{"video.published", "favorite.changed", "comment.changed", "relation.changed", "message.sent"}

// kafkaTopics are the topics the broker creates and records at its first start: the events and
// their dead letters. A topic the broker creates on first use instead would be forgotten, with its
// events, if the broker were killed (kafkaserver).
func kafkaTopics() []string {
	var topics []string
	for _, t := range eventTopics {
		topics = append(topics, t, t+".dead")
	}
	return topics
}

// startKafka runs the development broker on loopback; its log and consumer offsets are kept in
// the data folder, so events survive a restart of the broker as they do Redis's.
func (s *Stack) startKafka(ctx context.Context) error {
	dir := filepath.Join(s.cfg.DataDir, "kafka")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	cmd := exec.Command(s.kafkaServerBin(), "-port", strconv.Itoa(s.cfg.KafkaPort), "-data", dir,
		"-topics", strings.Join(kafkaTopics(), ","))
	if err := s.start("kafka", cmd, syscall.SIGTERM); err != nil {
		return err
	}
	return waitFor(ctx, 30*time.Second, "kafka", func() error { return dialable(s.cfg.KafkaPort) })
}

// s3Dir is the S3 server's root: one folder per bucket.
func (s *Stack) s3Dir() string { return filepath.Join(s.cfg.DataDir, "s3") }

// startS3 runs versitygw's posix backend on loopback with this run's root credentials (random
// at every start, like the app tokens: only the media binding and s3bucket use them), then makes
// the media bucket, public-read (s3bucket: play_url and cover_url point at it).
func (s *Stack) startS3(ctx context.Context) error {
	if err := os.MkdirAll(s.s3Dir(), 0o700); err != nil {
		return err
	}
	cmd := exec.Command(s.s3ServerBin(), "posix", s.s3Dir())
	cmd.Env = envWith(map[string]string{
		"ROOT_ACCESS_KEY_ID":     s.s3Access,
		"ROOT_SECRET_ACCESS_KEY": s.s3Secret,
		"VGW_PORT":               "127.0.0.1:" + strconv.Itoa(s.cfg.S3Port),
		"VGW_REGION":             s3Region,
		"VGW_QUIET":              "true",
		"VGW_HEALTH":             "/health",
	})
	if err := s.start("s3", cmd, syscall.SIGTERM); err != nil {
		return err
	}
	url := s.s3Endpoint() + "/health"
	if err := waitFor(ctx, 30*time.Second, "s3", func() error { return answersOK(url) }); err != nil {
		return err
	}
	setup := exec.CommandContext(ctx, s.s3BucketBin(), "-endpoint", s.s3Endpoint(), "-bucket", S3Bucket, "-region", s3Region)
	setup.Env = envWith(map[string]string{"S3_ACCESS_KEY": s.s3Access, "S3_SECRET_KEY": s.s3Secret})
	if out, err := setup.CombinedOutput(); err != nil {
		return fmt.Errorf("make the media bucket: %v: %s", err, out)
	}
	return nil
}

func (s *Stack) s3Endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.cfg.S3Port) }

// StoredMediaDir is the folder where the stack's media objects are files: the local binding's
// folder, or on the kafka-s3 set the bucket's folder in the S3 server's posix backend (which keeps
// an object's type and ETag in the file's extended attributes, so a hard link is the same object
// under another key).
func (s *Stack) StoredMediaDir() string {
	if s.cfg.ComponentSet() == InfraKafkaS3 {
		return filepath.Join(s.s3Dir(), S3Bucket)
	}
	return s.MediaDir()
}

// MediaBaseURL is where play_url and cover_url point: the gateway's /media route on the local
// set, the public-read bucket on the kafka-s3 set.
func (s *Stack) MediaBaseURL() string {
	if s.cfg.ComponentSet() == InfraKafkaS3 {
		return s.s3Endpoint() + "/" + S3Bucket
	}
	return s.PublicURL() + "/media"
}

const s3Region = "us-east-1"

// infraSetVars are the values the set's component files read with envRef.
func (s *Stack) infraSetVars() map[string]string {
	if s.cfg.ComponentSet() != InfraKafkaS3 {
		return nil
	}
	return map[string]string{
		"KAFKA_BROKERS": "127.0.0.1:" + strconv.Itoa(s.cfg.KafkaPort),
		"S3_ENDPOINT":   s.s3Endpoint(),
		"S3_BUCKET":     S3Bucket,
		"S3_REGION":     s3Region,
		"S3_ACCESS_KEY": s.s3Access,
		"S3_SECRET_KEY": s.s3Secret,
		// The AWS SDK must not look for an EC2 metadata endpoint: credentials come from the component.
		"AWS_EC2_METADATA_DISABLED": "true",
	}
}
