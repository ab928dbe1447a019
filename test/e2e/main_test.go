//go:build e2e

// Package e2e drives the mobile API over HTTP against a real stack (real daprd, Redis and
// PostgreSQL) that TestMain starts on its own ports and data folder and tears down. Run it with
// `make test` (or `make e2e`), which builds daprd and the services first.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/doutok/doutok/tools/devstack"
)

// uploadsPerUser is the stack's MAX_UPLOADS_PER_USER.
const uploadsPerUser = 6

// writesPerUser is the stack's WRITES_PER_USER: 600 at once, then one every 50 ms.
const writesPerUser = "600,50ms"

var (
	stack   *devstack.Stack
	stackCf devstack.Config
	baseURL string
	// spans keeps the spans of the traces the tests watch.
	spans *spanSink
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	daprd, bin := os.Getenv("DAPRD"), os.Getenv("DOUTOK_BIN_DIR")
	if daprd == "" || bin == "" {
		fmt.Fprintln(os.Stderr, "e2e: DAPRD and DOUTOK_BIN_DIR must be set; run `make e2e` or `make test`")
		return 1
	}
	dataDir, err := os.MkdirTemp("", "doutok-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dataDir)
	logPath := filepath.Join(dataDir, "stack.log")
	if keep := os.Getenv("E2E_LOG"); keep != "" {
		logPath = keep // kept after the run, for a failure the log's tail does not explain
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer logFile.Close()

	sink, sinkURL, err := startSpanSink("127.0.0.1:" + strconv.Itoa(envPort("E2E_ZIPKIN_PORT", 28990)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: the span sink:", err)
		return 1
	}
	spans = sink
	stackCf = devstack.Config{
		Root:         root,
		DataDir:      dataDir,
		BinDir:       bin,
		Daprd:        daprd,
		PublicPort:   envPort("E2E_PORT", 28080),
		PortBase:     envPort("E2E_PORT_BASE", 28100),
		PostgresPort: envPort("E2E_PG_PORT", 25432),
		RedisPort:    envPort("E2E_REDIS_PORT", 26379),
		// E2E_INFRA=kafka-s3 runs the suite on the Kafka and S3 component set.
		Infra:     os.Getenv("E2E_INFRA"),
		KafkaPort: envPort("E2E_KAFKA_PORT", 26092),
		S3Port:    envPort("E2E_S3_PORT", 26900),
		Logs:      logFile,
		// The sidecars export their spans to the test's own Zipkin endpoint (trace_test.go).
		TraceZipkinURL: sinkURL,
		// Short client deadlines, so the slow-client tests need not wait out the defaults; room for
		// the feed test's six uploads at once by one user. Writes per user: room for the 501 likes
		// of one user in a row (TestListsLongerThanOneBatch) and the bursts of 50 a second per user,
		// with a refill slow enough that the rate-limit test spends the budget quickly.
		Env: map[string]string{"LOG_LEVEL": "warn", "READ_HEADER_TIMEOUT": "2s", "READ_TIMEOUT": "4s",
			"MAX_UPLOADS_PER_USER": strconv.Itoa(uploadsPerUser), "WRITES_PER_USER": writesPerUser},
		// Likes and follows run on two instances each (favorite and relation), as replicas would:
		// what one process makes visible the other must see, and their writes to shared keys must
		// stay exact.
		SecondInstances: []string{"favorite", "relation"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	started := time.Now()
	stack, err = devstack.Start(ctx, stackCf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the stack:", err)
		printTail(logPath, 60)
		return 1
	}
	set := stackCf.ComponentSet()
	fmt.Printf("e2e: stack (%s components) up in %s\n", set, time.Since(started).Round(time.Millisecond))
	baseURL = stack.PublicURL()
	firstUpload = uploadAtOnce(ctx, dataDir)
	code := m.Run()
	stack.Stop()
	if code != 0 {
		printTail(logPath, 80)
	}
	return code
}

// firstUpload is how the upload a newcomer tries the moment the stack says it is up went.
var firstUpload error

// uploadAtOnce registers and uploads as the README's first steps do, right after start-up.
func uploadAtOnce(ctx context.Context, dir string) error {
	clip, err := sharedClip()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "first-upload.mp4")
	if err := os.WriteFile(path, clip, 0o644); err != nil {
		return err
	}
	_, token, err := stack.Register(ctx, uniqueName("first"), "secret123")
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	return stack.Upload(ctx, token, "the first upload", path)
}

// TestAnUploadRightAfterStartUpSucceeds: the stack is up only once every service is ready; the
// gateway once answered uploads 503 for seconds after saying so.
func TestAnUploadRightAfterStartUpSucceeds(t *testing.T) {
	if firstUpload != nil {
		t.Fatalf("an upload right after start-up: %v", firstUpload)
	}
}

func envPort(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// printTail shows the end of the stack's log, so a failure can be understood from CI output.
func printTail(path string, n int) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	fmt.Fprintf(os.Stderr, "---- last %d lines of the stack log ----\n", len(lines))
	for _, l := range lines {
		fmt.Fprintln(os.Stderr, l)
	}
}

// sameOnEverySet skips, on any set but the local one, a test whose requests reach neither the
// pub/sub nor the media component (the gateway's rules and limits, users and logins): those paths
// are the same on every set and the local set's run covers them, which keeps `make test`, which
// runs the suite on each set, within its time.
func sameOnEverySet(t *testing.T) {
	t.Helper()
	if stackCf.ComponentSet() != devstack.InfraLocal {
		t.Skipf("the same on every component set; covered by the local set's run")
	}
}

// onKafkaS3 tells whether the stack runs the kafka-s3 component set: events on Kafka, media in
// the S3 bucket, served by the bucket rather than the gateway's /media/ route.
func onKafkaS3() bool {
	return stackCf.ComponentSet() == devstack.InfraKafkaS3
}
