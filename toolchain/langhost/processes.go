package main

import (
	"errors"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a child has to exit after SIGTERM before it gets SIGKILL.
const stopGrace = 5 * time.Second

// processes are the host's running children.
type processes struct {
	mu      sync.Mutex
	running map[*os.Process]struct{}
}

func newProcesses() *processes {
	return &processes{running: map[*os.Process]struct{}{}}
}

func (p *processes) add(process *os.Process) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[process] = struct{}{}
}

func (p *processes) remove(process *os.Process) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, process)
}

func (p *processes) stopAll() {
	p.mu.Lock()
	running := make([]*os.Process, 0, len(p.running))
	for process := range p.running {
		running = append(running, process)
	}
	p.mu.Unlock()
	var wait sync.WaitGroup
	for _, process := range running {
		wait.Add(1)
		go func() {
			defer wait.Done()
			stop(process)
		}()
	}
	wait.Wait()
}

// stop ends a child: SIGTERM, then SIGKILL if it is still there after stopGrace. Its waiter
// (Run, RunPlugin) reaps it; stop only watches for it to be gone.
func stop(process *os.Process) {
	if process.Signal(syscall.SIGTERM) != nil {
		return // already gone
	}
	deadline := time.Now().Add(stopGrace)
	for time.Now().Before(deadline) {
		if process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = process.Kill()
}

// exitCode is the child's exit code as Python's subprocess reports it: -N when signal N ended it.
func exitCode(waitErr error, state *os.ProcessState) int {
	if state == nil {
		return 1
	}
	if status, ok := state.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return -int(status.Signal())
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return 1
	}
	return state.ExitCode()
}
