package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"
)

// died holds the first unexpected exit of a process of the stack: every figure measured after
// it would be of a broken stack, so the bench stops at its next check (alive).
var died atomic.Pointer[error]

func watchStack(exited <-chan error) {
	go func() {
		err := <-exited
		died.Store(&err)
	}()
}

// alive fails once a process of the stack has exited.
func alive() error {
	if err := died.Load(); err != nil {
		return fmt.Errorf("the stack broke during the measurement (BENCH_LOG keeps its log): %w", *err)
	}
	return nil
}

// report is where the bench prints its table: stdout, and a copy kept for the results file.
var (
	kept   bytes.Buffer
	report io.Writer = io.MultiWriter(os.Stdout, &kept)
)

func say(format string, args ...any) { fmt.Fprintf(report, format, args...) }

func sayln(args ...any) { fmt.Fprintln(report, args...) }

// verdicts are the targets judged so far, in order, for the summary at the end.
var verdicts []string

// judge prints and records the verdict of one target: what was measured, the figure, the target
// in words, and whether it was met.
func judge(what, figure, target string, met bool) {
	word := "FAIL"
	if met {
		word = "pass"
	}
	line := fmt.Sprintf("%s: %s (target %s): %s", what, figure, target, word)
	verdicts = append(verdicts, line)
	say("verdict: %s\n", line)
}

// summarize prints every verdict again, together, so that the end of the output answers "which
// targets are met".
func summarize() {
	if len(verdicts) == 0 {
		return
	}
	failed := 0
	for _, v := range verdicts {
		if strings.HasSuffix(v, ": FAIL") {
			failed++
		}
	}
	say("\n## Verdicts (%d targets, %d missed)\n\n", len(verdicts), failed)
	for _, v := range verdicts {
		say("- %s\n", v)
	}
}

// writeResults writes the whole table, under a header that says where and how it was measured,
// to path.
func writeResults(path, command string, started time.Time) error {
	var b strings.Builder
	b.WriteString("# Benchmark results\n\n")
	b.WriteString("Written by `make bench` (bench/main.go); the README's Benchmarks section explains each stage.\n\n")
	fmt.Fprintf(&b, "- command: `%s`\n", command)
	fmt.Fprintf(&b, "- started: %s, took %s\n", started.UTC().Format(time.RFC3339), time.Since(started).Round(time.Second))
	if rev, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		dirty := ""
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			dirty = " (with uncommitted changes)"
		}
		fmt.Fprintf(&b, "- code: commit %s%s\n", strings.TrimSpace(string(rev)), dirty)
	}
	if note := os.Getenv("BENCH_NOTE"); note != "" {
		fmt.Fprintf(&b, "- note: %s\n", note)
	}
	b.WriteString("\n")
	b.Write(kept.Bytes())
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
