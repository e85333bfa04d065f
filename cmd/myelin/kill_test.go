package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/myelin-go/myelin/internal/atomicfile"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/safetensors"
)

// killChildEnv makes the test binary, re-executed by the kill tests, act
// as a training process instead of running tests: "cli" runs myelin's main
// on the arguments, "inplace" trains while writing each checkpoint in
// place, without the temporary file and rename (what the test must catch).
//
// killPauseEnv=N makes the child stop in the middle of its N-th checkpoint
// write, report "paused PATH" on file descriptor 3 and wait to be killed:
// the parent kills only after that report, so every kill lands mid-write.
const (
	killChildEnv = "MYELIN_KILLTEST_CHILD"
	killPauseEnv = "MYELIN_KILLTEST_PAUSE"
)

// killWait bounds every wait on a child process in these tests.
const killWait = 2 * time.Minute

func init() {
	switch os.Getenv(killChildEnv) {
	case "cli":
		if n := pauseAt(); n > 0 {
			writes := 0
			atomicfile.TestHookWritten = func(path, tmp string) {
				if writes++; writes == n {
					pauseForKill(tmp)
				}
			}
		}
		main()
	case "inplace":
		os.Exit(inPlaceChild(os.Args[1], os.Args[2]))
	}
}

// pauseAt reads killPauseEnv: the checkpoint write to stop in, or 0.
func pauseAt() int {
	n, _ := strconv.Atoi(os.Getenv(killPauseEnv))
	return n
}

// pauseForKill reports on file descriptor 3 that the child is in the
// middle of writing path and blocks until it is killed.
func pauseForKill(path string) {
	f := os.NewFile(3, "kill-report")
	fmt.Fprintf(f, "paused %s\n", path)
	f.Close()
	for {
		time.Sleep(time.Hour)
	}
}

// inPlaceChild trains the founding model on dataDir, overwriting one
// checkpoint file in ckDir after every step in 4 KiB writes.
func inPlaceChild(dataDir, ckDir string) int {
	ds, err := loadData("", dataDir, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m := foundingModel(ds.train.Classes, true)
	m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy())
	x, y, err := xy(ds.train, m.InputShape(), ds.train.Classes, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	path := filepath.Join(ckDir, model.CheckpointName(1))
	cb := &inPlace{m: m, path: path, pause: pauseAt()}
	_, err = m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1 << 20, Verbose: 0, Callbacks: []model.Callback{cb}})
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// inPlace writes a checkpoint in place after every step; in its pause-th
// write it stops after the first 4 KiB.
type inPlace struct {
	model.BaseCallback
	m      *model.Sequential
	path   string
	pause  int
	writes int
}

// inPlaceChunk is the size of inPlace's writes, and of what a kill in
// the middle of one leaves.
const inPlaceChunk = 4096

func (c *inPlace) OnBatchEnd(int, int, model.Logs) error {
	f, err := c.m.CheckpointFile(nil)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := safetensors.Write(&b, f); err != nil {
		return err
	}
	out, err := os.OpenFile(c.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	c.writes++
	for p := b.Bytes(); len(p) > 0; p = p[min(len(p), inPlaceChunk):] {
		if _, err := out.Write(p[:min(len(p), inPlaceChunk)]); err != nil {
			return err
		}
		if c.writes == c.pause {
			pauseForKill(c.path)
		}
	}
	return out.Close()
}

// lockedBuffer collects a child's stderr while the test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// child is a training process started by a test.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *lockedBuffer
	report chan string   // lines from file descriptor 3
	exited chan error    // cmd.Wait's result
	done   chan struct{} // closed when the process has exited
}

// startChild runs the test binary as a child of the given mode with env
// added to its environment.
func startChild(t *testing.T, mode string, env []string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), killChildEnv+"="+mode), env...)
	c := &child{t: t, cmd: cmd, stderr: &lockedBuffer{}, report: make(chan string, 1), exited: make(chan error, 1), done: make(chan struct{})}
	cmd.Stderr = c.stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			c.report <- sc.Text()
		}
		r.Close()
	}()
	go func() {
		c.exited <- cmd.Wait()
		close(c.done)
	}()
	return c
}

// waitReport returns the child's next report line, failing the test when
// the child exits first or no report comes within killWait.
func (c *child) waitReport(what string) string {
	c.t.Helper()
	select {
	case l := <-c.report:
		return l
	case err := <-c.exited:
		c.t.Fatalf("the training process ended (%v) before it %s\n%s", err, what, c.stderr)
	case <-time.After(killWait):
		c.cmd.Process.Kill()
		c.t.Fatalf("the training process had not %s after %v\n%s", what, killWait, c.stderr)
	}
	return ""
}

// wait returns the child's exit error, failing the test when it has not
// exited within killWait; what says why it should have.
func (c *child) wait(what string) error {
	c.t.Helper()
	select {
	case err := <-c.exited:
		return err
	case <-time.After(killWait):
		c.cmd.Process.Kill()
		c.t.Fatalf("the training process had not exited %v after %s\n%s", killWait, what, c.stderr)
	}
	return nil
}

// killMidWrite waits for the child to pause in a checkpoint write,
// SIGKILLs it and returns the path it was writing.
func (c *child) killMidWrite() string {
	c.t.Helper()
	line := c.waitReport("paused in a checkpoint write")
	path, ok := strings.CutPrefix(line, "paused ")
	if !ok {
		c.t.Fatalf("the training process reported %q, want \"paused PATH\"", line)
	}
	c.cmd.Process.Kill() // SIGKILL
	err := c.wait("SIGKILL")
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		c.t.Fatalf("the training process was not killed by SIGKILL (%v)\n%s", err, c.stderr)
	}
	return path
}

// killSeed seeds the kill tests' choices; MYELIN_KILLTEST_SEED replays a
// run that failed.
func killSeed(t *testing.T) uint64 {
	if s := os.Getenv("MYELIN_KILLTEST_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MYELIN_KILLTEST_SEED=%q: %v", s, err)
		}
		return n
	}
	return 1
}

// TestKillDuringCheckpoint kills `myelin train --checkpoint-every 1` 100
// times in the middle of a checkpoint write (the 2nd to 4th of the run,
// chosen at random), each run resuming from the last, and checks after
// every kill that the kill left the write unfinished (its temporary file
// is there), that the directory holds a loadable checkpoint newer than
// before the run, and that no checkpoint file is broken.
func TestKillDuringCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 100 processes")
	}
	seed := killSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir, data := filepath.Join(t.TempDir(), "ck"), ckDataDir(t, 256, 32)
	lastStep := -1
	for i := range 100 {
		args := []string{"train", "--data-dir", data, "--epochs", "1000000", "--out", "", "--verbose", "0", "--checkpoint-every", "1", "--keep", "2"}
		if i == 0 {
			args = append(args, "--checkpoint-dir", dir)
		} else {
			args = append(args, "--resume", dir)
		}
		pause := 2 + rng.IntN(3) // at least one complete checkpoint per run
		c := startChild(t, "cli", []string{killPauseEnv + "=" + strconv.Itoa(pause)}, args...)
		tmp := c.killMidWrite()
		if !strings.HasPrefix(filepath.Base(tmp), ".ckpt-") {
			t.Fatalf("kill %d: paused writing %s, want a checkpoint's temporary", i+1, tmp)
		}
		if _, err := os.Stat(tmp); err != nil {
			t.Fatalf("kill %d (seed %d): the write it interrupted left no temporary: %v", i+1, seed, err)
		}
		_, ck, err := model.LatestCheckpoint(dir)
		if err != nil {
			t.Fatalf("kill %d (seed %d): %v", i+1, seed, err)
		}
		if len(ck.Skipped) > 0 {
			t.Fatalf("kill %d (seed %d): broken checkpoints %q", i+1, seed, ck.Skipped)
		}
		step := ck.GlobalStep
		if step <= lastStep {
			t.Fatalf("kill %d: latest checkpoint at epoch %d step %d, not after the previous run's", i+1, ck.Epoch+1, ck.Step)
		}
		lastStep = step
	}
}

// TestKillDetectsInPlaceWrites checks that the kill test can fail: the
// same kills, against a process that overwrites its checkpoint in place,
// must each leave no loadable checkpoint.
func TestKillDetectsInPlaceWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	seed := killSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir, data := t.TempDir(), ckDataDir(t, 256, 32)
	for i := range 5 {
		pause := 2 + rng.IntN(3)
		c := startChild(t, "inplace", []string{killPauseEnv + "=" + strconv.Itoa(pause)}, data, dir)
		path := c.killMidWrite()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() != inPlaceChunk {
			t.Fatalf("kill %d: the checkpoint written in place has %d bytes, want the %d of one write: the kill did not land mid-write", i+1, st.Size(), inPlaceChunk)
		}
		if _, _, err := model.LatestCheckpoint(dir); err == nil {
			t.Fatalf("kill %d (seed %d): a checkpoint cut after %d bytes still loads: the kill test cannot tell atomic writes from unsafe ones", i+1, seed, inPlaceChunk)
		}
	}
}

// TestInterruptSavesCheckpoint sends SIGINT (Ctrl-C), and SIGTERM, to a
// training process that checkpoints only at epoch ends: it must save the
// last complete step, say how to continue, and exit with status 1.
func TestInterruptSavesCheckpoint(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ck")
			c := startChild(t, "cli", nil, "train", "--data-dir", ckDataDir(t, 10000, 32), "--batch-size", "16", "--epochs", "1000", "--out", "", "--verbose", "0", "--checkpoint-dir", dir)
			// Once the first epoch's checkpoint exists, the process is
			// training and handles the signal.
			for deadline := time.Now().Add(killWait); ; time.Sleep(time.Millisecond) {
				if ns, _ := filepath.Glob(filepath.Join(dir, "ckpt-*.safetensors")); len(ns) > 0 {
					break
				}
				select {
				case err := <-c.exited:
					t.Fatalf("the training process ended (%v) before its first checkpoint\n%s", err, c.stderr)
				default:
				}
				if time.Now().After(deadline) {
					c.cmd.Process.Kill()
					t.Fatalf("no checkpoint after %v\n%s", killWait, c.stderr)
				}
			}
			c.cmd.Process.Signal(sig)
			err := c.wait("the signal")
			if code := c.cmd.ProcessState.ExitCode(); code != 1 {
				t.Fatalf("exit status %d (%v), want 1\n%s", code, err, c.stderr)
			}
			for _, want := range []string{"myelin: error: interrupted", "checkpoint of the last complete step saved to " + dir, "to continue: myelin train --resume " + dir} {
				if !strings.Contains(c.stderr.String(), want) {
					t.Errorf("stderr %q does not say %q", c.stderr, want)
				}
			}
			_, ck, err := model.LatestCheckpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("interrupted at epoch %d step %d", ck.Epoch+1, ck.Step)
		})
	}
}
