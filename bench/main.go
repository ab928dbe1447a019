// Command bench measures the system on this machine (`make bench`). It starts its own stack on
// its own ports, and prints a table of throughput and latency measured with wrk, a real load
// generator, plus the peak memory of the upload path.
//
// Stages:
//  1. upload: one ~62 MiB video through the gateway; peak resident memory (VmHWM) of api, publish
//     and their sidecars, read from /proc, on a freshly started stack.
//  2. feed: 2,000+ videos seeded, then the anonymous newest feed page and a trivial endpoint that
//     takes the same path (gateway → sidecar → sidecar → feed service) under the same load; the
//     ratio of their throughputs is the target (≥ 0.5).
//  3. likes: sustained like/unlike by 200 users on random videos (wrk, closed loop), the time the
//     consumer needs to persist what is left when the load stops, then the feed and the like
//     action at the same constant rate (vegeta, open loop) to compare their p99.
//  4. comments: the comment list of a video with 1,000 comments.
//  5. social: 1,001 users registered, one with 1,000 friends, 100 chats of 20 messages, all through
//     the API; the user info, chat polls and the friend list against the trivial endpoint (ratios
//     of throughput, target ≥ 0.4 for user info and polls), then the feed and the follow action at
//     the same constant rate (vegeta) to compare their p99 (target ≤ 3).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/doutok/doutok/tools/devstack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// Load parameters, fixed so runs compare.
const (
	threads     = 2
	connections = 32
	warmup      = 3 * time.Second
	measure     = 15 * time.Second // per endpoint; the feed stage splits it into rounds
	seedVideos  = 2000
	seedUsers   = 50
)

func run() error {
	started := time.Now()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	daprd, bin := os.Getenv("DAPRD"), os.Getenv("DOUTOK_BIN_DIR")
	if daprd == "" || bin == "" {
		return fmt.Errorf("DAPRD and DOUTOK_BIN_DIR must be set; run `make bench`")
	}
	dataDir, err := os.MkdirTemp("", "doutok-bench-")
	if err != nil {
		return err
	}
	keepData := false // a stack that failed to start leaves its data and log for a look
	defer func() {
		if !keepData {
			os.RemoveAll(dataDir)
		}
	}()
	logPath := filepath.Join(dataDir, "stack.log")
	if keep := os.Getenv("BENCH_LOG"); keep != "" {
		logPath = keep // kept after the run
	}
	logs, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logs.Close()
	cfg := devstack.Config{
		Root: root, DataDir: dataDir, BinDir: bin, Daprd: daprd,
		// Below the ephemeral port range (32768+), where outgoing connections could take them.
		// BENCH_PUBLIC_PORT, BENCH_PORT_BASE, BENCH_PG_PORT and BENCH_REDIS_PORT move them, to run
		// a second bench beside another.
		PublicPort: port("BENCH_PUBLIC_PORT", 23080), PortBase: port("BENCH_PORT_BASE", 23100),
		PostgresPort: port("BENCH_PG_PORT", 23432), RedisPort: port("BENCH_REDIS_PORT", 23379),
		// The component set (make bench INFRA=kafka-s3), and the ports of that set's servers.
		Infra: os.Getenv("DOUTOK_INFRA"), KafkaPort: port("BENCH_KAFKA_PORT", 23092), S3Port: port("BENCH_S3_PORT", 23900),
		Logs: logs,
		// Access lines at info level would measure the log pipe; warnings and errors still show.
		// The benchmark measures the services, not the rate limits: a few users write as fast as
		// the stack allows.
		Env: map[string]string{"LOG_LEVEL": "warn",
			"LOGIN_PER_IP": "off", "REGISTER_PER_IP": "off", "LOGIN_FAILURES_PER_USERNAME": "off", "WRITES_PER_USER": "off"},
	}
	ctx := context.Background()
	stack, err := devstack.Start(ctx, cfg)
	if err != nil {
		keepData = true
		return fmt.Errorf("%w (the stack's log is kept: %s)", err, logPath)
	}
	defer stack.Stop()
	watchStack(stack.Exited())
	h := &harness{stack: stack, cfg: cfg, base: stack.PublicURL(), work: dataDir}

	say("machine: %s\n", machine())
	say("component set: %s\n", cfg.ComponentSet())
	stages := []struct {
		name string
		run  func(context.Context) error
	}{
		{"upload", h.uploadMemory},
		{"feed", h.feedReads},
		{"lists", h.listReads},
		{"likes", h.likeThroughput},
		{"social", h.social},
		{"scale", h.scale},
	}
	only := selectedStages(os.Getenv("BENCH_STAGES"))
	// A stage that fails is a missed target, and the next stages still run, unless the stack
	// itself broke: then nothing after it would measure anything.
	var failed []string
	for _, s := range stages {
		if only != nil && !only[s.name] {
			continue
		}
		say("\n## %s\n\n", s.name)
		err := s.run(ctx)
		dead := alive()
		if dead != nil {
			err = dead
		}
		if err != nil {
			failed = append(failed, s.name)
			judge(s.name+" stage", err.Error(), "runs to the end", false)
		}
		if dead != nil {
			break
		}
	}
	summarize()
	if err := writeResultsFile(root, cfg.ComponentSet(), only != nil, started); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("stages that did not run to the end: %s", strings.Join(failed, ", "))
	}
	return nil
}

// writeResultsFile writes the table to bench/RESULTS.md after a full run, or to BENCH_RESULTS:
// a partial run does not replace the committed results unless asked to.
func writeResultsFile(root, set string, partial bool, started time.Time) error {
	results := os.Getenv("BENCH_RESULTS")
	if results == "" && !partial {
		// One file per component set: bench/RESULTS.md for the local set, RESULTS-<set>.md else.
		name := "RESULTS.md"
		if set != devstack.InfraLocal {
			name = "RESULTS-" + set + ".md"
		}
		results = filepath.Join(root, "bench", name)
	}
	if results == "" {
		return nil
	}
	command := "make bench"
	if set != devstack.InfraLocal {
		command = "make bench INFRA=" + set
	}
	if stages := os.Getenv("BENCH_STAGES"); stages != "" {
		command = "BENCH_STAGES=" + stages + " " + command
	}
	if err := writeResults(results, command, started); err != nil {
		return err
	}
	fmt.Printf("\nresults written to %s\n", results)
	return nil
}

// port reads a port from the environment, or returns def.
func port(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// selectedStages reads BENCH_STAGES ("likes" or "feed,likes"): the stages to run while working on
// one of them. Empty means all. The likes, comments and social stages seed the videos they need.
func selectedStages(list string) map[string]bool {
	if list == "" {
		return nil
	}
	only := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		only[strings.TrimSpace(name)] = true
	}
	return only
}
