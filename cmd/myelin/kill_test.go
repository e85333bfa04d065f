package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
const killChildEnv = "MYELIN_KILLTEST_CHILD"

func init() {
	switch os.Getenv(killChildEnv) {
	case "cli":
		main()
	case "inplace":
		os.Exit(inPlaceChild(os.Args[1], os.Args[2]))
	}
}

// inPlaceChild trains the founding model on dataDir, overwriting one
// checkpoint file in ckDir after every step in 4 KiB writes.
func inPlaceChild(dataDir, ckDir string) int {
	ds, err := loadData("", dataDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m := foundingModel(ds.train.Classes, true)
	m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy())
	x, y, err := xy(ds.train, ds.train.Classes, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	path := filepath.Join(ckDir, model.CheckpointName(1))
	_, err = m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1 << 20, Callbacks: []model.Callback{&inPlace{m: m, path: path}}})
	fmt.Fprintln(os.Stderr, err)
	return 1
}

type inPlace struct {
	model.BaseCallback
	m    *model.Sequential
	path string
}

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
	for p := b.Bytes(); len(p) > 0; p = p[min(len(p), 4096):] {
		if _, err := out.Write(p[:min(len(p), 4096)]); err != nil {
			return err
		}
	}
	return out.Close()
}

// killer starts training processes and SIGKILLs them while they write
// checkpoints.
type killer struct {
	t    *testing.T
	rng  *rand.Rand
	dir  string // the checkpoint directory
	data string // --data-dir
}

// newestStep returns the highest step among the checkpoint files in
// k.dir, or -1.
func (k *killer) newestStep() int {
	ns, _ := filepath.Glob(filepath.Join(k.dir, "ckpt-*.safetensors"))
	best := -1
	for _, n := range ns {
		var s int
		if _, err := fmt.Sscanf(filepath.Base(n), "ckpt-%d.safetensors", &s); err == nil && s > best {
			best = s
		}
	}
	return best
}

// round starts the child, waits until it has written a checkpoint newer
// than any before (from then on it writes one every step), waits a random
// 0–15 ms more, kills it, and reports whether a temporary was left, a
// sign that the kill landed during a write.
func (k *killer) round(mode string, args ...string) (midWrite bool) {
	k.t.Helper()
	before := k.newestStep()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), killChildEnv+"="+mode)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for k.newestStep() <= before && mode == "cli" || mode == "inplace" && k.newestStep() < 0 {
		select {
		case err := <-exited:
			k.t.Fatalf("the training process ended before it wrote a checkpoint: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			k.t.Fatalf("no new checkpoint after 30 s\n%s", stderr.String())
		}
		time.Sleep(200 * time.Microsecond)
	}
	time.Sleep(time.Duration(k.rng.IntN(15000)) * time.Microsecond)
	cmd.Process.Kill() // SIGKILL
	if err := <-exited; err == nil || !strings.Contains(err.Error(), "killed") {
		k.t.Fatalf("the training process was not killed (%v)\n%s", err, stderr.String())
	}
	tmps, _ := filepath.Glob(filepath.Join(k.dir, ".ckpt-*.tmp-*"))
	return len(tmps) > 0
}

// TestKillDuringCheckpoint kills `myelin train --checkpoint-every 1` 100
// times at random moments while it checkpoints, each run resuming from
// the last, and checks after every kill that the directory holds a
// loadable, finite checkpoint.
func TestKillDuringCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 100 processes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	k := &killer{t: t, rng: rand.New(rand.NewPCG(seed, 0)), dir: filepath.Join(t.TempDir(), "ck"), data: ckDataDir(t, 256, 32)}
	midWrite, skipped := 0, 0
	for i := range 100 {
		args := []string{"train", "--data-dir", k.data, "--epochs", "1000000", "--out", "", "--verbose", "0", "--checkpoint-every", "1", "--keep", "2"}
		if i == 0 {
			args = append(args, "--checkpoint-dir", k.dir)
		} else {
			args = append(args, "--resume", k.dir)
		}
		if k.round("cli", args...) {
			midWrite++
		}
		_, ck, err := model.LatestCheckpoint(k.dir)
		if err != nil {
			t.Fatalf("after kill %d: %v", i+1, err)
		}
		skipped += len(ck.Skipped)
	}
	t.Logf("100 kills: %d left a temporary (killed mid-write), %d newer checkpoints were skipped as unusable", midWrite, skipped)
	if midWrite == 0 {
		t.Error("no kill landed during a checkpoint write: the test did not test atomicity")
	}
}

// TestKillDetectsInPlaceWrites checks that the kill test can fail: the
// same kills, against a process that overwrites its checkpoint in place,
// must sooner or later leave no loadable checkpoint.
func TestKillDetectsInPlaceWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts up to 100 processes")
	}
	seed := uint64(time.Now().UnixNano())
	k := &killer{t: t, rng: rand.New(rand.NewPCG(seed, 1)), dir: t.TempDir(), data: ckDataDir(t, 256, 32)}
	for i := range 100 {
		k.round("inplace", k.data, k.dir)
		if _, _, err := model.LatestCheckpoint(k.dir); err != nil {
			t.Logf("kill %d (seed %d) broke the in-place checkpoint, as it should: %v", i+1, seed, err)
			return
		}
	}
	t.Fatalf("100 kills never broke a checkpoint written in place (seed %d): the kill test cannot tell atomic writes from unsafe ones", seed)
}

// TestInterruptSavesCheckpoint sends SIGINT (Ctrl-C) to a training
// process that checkpoints only at epoch ends: it must save the last
// complete step, say how to continue, and exit with status 1.
func TestInterruptSavesCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	cmd := exec.Command(os.Args[0], "train", "--data-dir", ckDataDir(t, 10000, 32), "--batch-size", "16", "--epochs", "1000", "--out", "", "--verbose", "0", "--checkpoint-dir", dir)
	cmd.Env = append(os.Environ(), killChildEnv+"=cli")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Once the first epoch's checkpoint exists, the process is training
	// (and handles SIGINT); a little later it is in the middle of an epoch.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		if ns, _ := filepath.Glob(filepath.Join(dir, "ckpt-*.safetensors")); len(ns) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint after 30 s\n%s", stderr.String())
		}
	}
	time.Sleep(20 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit status %d (%v), want 1\n%s", code, err, stderr.String())
	}
	for _, want := range []string{"myelin: error: interrupted: ", "checkpoint of the last complete step saved to " + dir, "to continue: myelin train --resume " + dir} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q does not say %q", stderr.String(), want)
		}
	}
	_, ck, err := model.LatestCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("interrupted at epoch %d step %d", ck.Epoch+1, ck.Step)
}
