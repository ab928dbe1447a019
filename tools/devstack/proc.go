package devstack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one child process of the stack, in its own process group so that stopping it stops
// everything it started, and tied to our life by a parent-death signal so a killed devstack
// leaves no orphans.
type proc struct {
	name     string
	cmd      *exec.Cmd
	stopWith syscall.Signal
	done     chan struct{}
	err      error
}

// logMux serialises prefixed lines from every child onto one writer.
type logMux struct {
	mu  sync.Mutex
	out io.Writer
}

func (m *logMux) line(prefix, text string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(m.out, "%-14s %s\n", "["+prefix+"]", text)
}

// prefixWriter returns a pipe writer whose lines reach mux behind [name].
func (m *logMux) prefixWriter(name string) io.WriteCloser {
	r, w := io.Pipe()
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			m.line(name, sc.Text())
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	return w
}

// startProc starts cmd as a child named name; stopWith is the signal that shuts it down cleanly.
func startProc(logs *logMux, name string, cmd *exec.Cmd, stopWith syscall.Signal) (*proc, error) {
	out := logs.prefixWriter(name)
	cmd.Stdout, cmd.Stderr = out, out
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, stopWith: stopWith, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop signals the process group and waits up to grace before killing it.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, p.stopWith)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// kill sends SIGKILL to the process and all its descendants, as a crash would, and waits for
// the exit.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	p.signalAll(syscall.SIGKILL)
	<-p.done
}

// signalAll sends sig to the process group and to every descendant, also those in sessions of
// their own (PostgreSQL's backends call setsid, so the group alone misses them).
func (p *proc) signalAll(sig syscall.Signal) {
	pids := descendants(p.cmd.Process.Pid)
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	for _, pid := range pids {
		_ = syscall.Kill(pid, sig)
	}
}

// descendants lists the processes below pid, read from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command (which may hold spaces) start after its last ')'.
		rest := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(rest) < 2 {
			continue
		}
		if parent, err := strconv.Atoi(rest[1]); err == nil {
			children[parent] = append(children[parent], child)
		}
	}
	var out []int
	for queue := children[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return out
}

// exitError describes how a process ended, for the message when it ends unexpectedly.
func (p *proc) exitError() error {
	if p.err == nil {
		return fmt.Errorf("%s exited", p.name)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return fmt.Errorf("%s exited: %v", p.name, ee.ProcessState)
	}
	return fmt.Errorf("%s: %w", p.name, p.err)
}

// envWith returns the current environment plus extra variables.
func envWith(extra map[string]string) []string {
	env := os.Environ()
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}
