package atomicfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// helperEnv selects a helper mode when the test binary re-executes itself.
const helperEnv = "ATOMICFILE_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "crash":
		os.Exit(crashHelper())
	case "readonly":
		os.Exit(readOnlyHelper())
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", helperEnv, os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func TestWriteFileSuccess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.bin")
	for _, content := range []string{"first version", "second, longer version", ""} {
		if err := WriteFile(path, 0o644, writeString(content)); err != nil {
			t.Fatalf("WriteFile(%q): %v", content, err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("content: got %q, want %q", got, content)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"model.bin"}) {
			t.Errorf("directory: got %q, want only model.bin", names)
		}
	}
}

func TestWriteFileRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFile("rel.txt", 0o644, writeString("x")); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "rel.txt")); err != nil || string(got) != "x" {
		t.Errorf("got %q, %v, want \"x\", nil", got, err)
	}
}

func TestWriteFilePerm(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("Unix permission bits")
	}
	path := filepath.Join(t.TempDir(), "secret")
	// 0600 is not narrowed further by any usual umask.
	if err := WriteFile(path, 0o600, writeString("s")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("mode: got %v, want %v", got, want)
	}
}

func TestWriteFileWriteError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	err := WriteFile(path, 0o644, func(w io.Writer) error {
		// Write more than the internal buffer so some bytes reach the temporary.
		if _, err := w.Write(make([]byte, 200<<10)); err != nil {
			return err
		}
		return errBoom
	})
	if err != errBoom {
		t.Errorf("error: got %v, want the write function's error unchanged", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("content: got %q, want %q", got, "old")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"f"}) {
		t.Errorf("directory: got %q, want only f", names)
	}
}

func TestWriteFilePanic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != "write panicked" {
				t.Errorf("recovered: got %v, want the write function's panic", r)
			}
		}()
		WriteFile(path, 0o644, func(w io.Writer) error {
			io.WriteString(w, "partial")
			panic("write panicked")
		})
	}()
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("content: got %q, want %q", got, "old")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"f"}) {
		t.Errorf("directory: got %q, want only f", names)
	}
}

func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "keep"), []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		path  string
		write func(io.Writer) error
	}{
		{"missing directory", filepath.Join(dir, "missing", "f"), writeString("x")},
		{"target is a non-empty directory", sub, writeString("x")},
		{"empty path", "", writeString("x")},
		{"path ends in separator", dir + string(filepath.Separator), writeString("x")},
		{"nil write function", filepath.Join(dir, "f"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteFile(tt.path, 0o644, tt.write)
			if err == nil {
				t.Fatal("got nil error, want an error")
			}
			if got := err.Error(); len(got) < 12 || got[:12] != "atomicfile: " {
				t.Errorf("error %q: want prefix \"atomicfile: \"", got)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"sub"}) {
				t.Errorf("directory: got %q, want only sub", names)
			}
			if names := dirNames(t, sub); !slices.Equal(names, []string{"keep"}) {
				t.Errorf("sub: got %q, want only keep", names)
			}
		})
	}
}

func TestIsTempName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{".model.bin.tmp-0123456789abcdef", true},
		{".a.tmp-ffffffffffffffff", true},
		{"..tmp-0123456789abcdef.tmp-0123456789abcdef", true}, // base ".tmp-0123456789abcdef"
		{"..tmp-0123456789abcdef", false},                     // empty base
		{"model.bin.tmp-0123456789abcdef", false},             // no leading dot
		{".model.bin.tmp-0123456789ABCDEF", false},            // upper-case hex
		{".model.bin.tmp-0123456789abcde", false},             // 15 digits
		{".model.bin.tmp-0123456789abcdefa", false},           // 17 digits, so infix misplaced
		{".model.bin.tmp-0123456789abcdeg", false},            // not hex
		{".model.bin.tnp-0123456789abcdef", false},            // wrong infix
		{".model.bin", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isTempName(tt.name); got != tt.want {
			t.Errorf("isTempName(%q): got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCleanTemps(t *testing.T) {
	dir := t.TempDir()
	files := map[string]bool{ // name → removed by CleanTemps
		".w.tmp-0123456789abcdef":   true,
		".w.tmp-fedcba9876543210":   true,
		".x.y.tmp-00000000ffffffff": true,
		"w":                         false,
		"w.tmp-0123456789abcdef":    false,
		".w.tmp-0123456789":         false,
		".w.tmp-0123456789ABCDEF":   false,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A directory with a matching name is left alone.
	if err := os.Mkdir(filepath.Join(dir, ".d.tmp-0123456789abcdef"), 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := CleanTemps(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("CleanTemps: got %d removed, want 3", n)
	}
	want := []string{".d.tmp-0123456789abcdef"}
	for name, removed := range files {
		if !removed {
			want = append(want, name)
		}
	}
	slices.Sort(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("left: got %q, want %q", got, want)
	}
	if n, err := CleanTemps(dir); n != 0 || err != nil {
		t.Errorf("second CleanTemps: got %d, %v, want 0, nil", n, err)
	}
	if _, err := CleanTemps(filepath.Join(dir, "missing")); err == nil {
		t.Error("CleanTemps of a missing directory: got nil error, want an error")
	}
}

// Crash simulation. The helper process writes version V of the content with
// WriteFile in chunks. Told to pause (ATOMICFILE_TEST_PAUSE=k), it stops
// after k chunks (k < crashChunks), or at k = crashChunks in TestHookWritten once the
// whole content is in the temporary, prints "paused" and waits to be
// killed; the test reads that line before the SIGKILL, so every such kill
// lands mid-write, and the target must then hold the previous version,
// complete. Runs that are not told to pause must leave the new version.

const (
	crashChunks    = 32
	crashChunkSize = 32 << 10
	crashNoPause   = -1
)

// crashWait bounds each wait on the helper process.
const crashWait = time.Minute

// crashContent is version v of the content: about 1 MiB, a length and bytes
// that differ between versions.
func crashContent(v int) []byte {
	n := crashChunks*crashChunkSize - 1000 + 37*v
	b := make([]byte, n)
	x := uint32(v)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// pauseForKill reports that the helper is mid-write and blocks until the
// test kills it.
func pauseForKill() {
	fmt.Println("paused")
	for {
		time.Sleep(time.Hour)
	}
}

func crashHelper() int {
	path := os.Getenv("ATOMICFILE_TEST_PATH")
	v, err := strconv.Atoi(os.Getenv("ATOMICFILE_TEST_VERSION"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	pause, err := strconv.Atoi(os.Getenv("ATOMICFILE_TEST_PAUSE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if pause == crashChunks {
		TestHookWritten = func(string, string) { pauseForKill() }
	}
	content := crashContent(v)
	chunks := 0
	err = WriteFile(path, 0o644, func(w io.Writer) error {
		for len(content) > 0 {
			if chunks == pause {
				pauseForKill()
			}
			n := min(crashChunkSize, len(content))
			if _, err := w.Write(content[:n]); err != nil {
				return err
			}
			content = content[n:]
			chunks++
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("done")
	return 0
}

// nextLine returns the next line from lines, failing the test when none
// comes within crashWait; what says what the line would have meant.
func nextLine(t *testing.T, lines <-chan string, what string, stderr *syncBuffer) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatalf("the helper closed its output before it %s\nstderr: %s", what, stderr)
		}
		return l
	case <-time.After(crashWait):
		t.Fatalf("the helper had not %s after %v\nstderr: %s", what, crashWait, stderr)
	}
	return ""
}

// syncBuffer is a bytes.Buffer that the process's copier goroutine and the
// test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// crashSeed seeds the choice of pause points; the failure message names
// it, and ATOMICFILE_TEST_SEED replays a run.
func crashSeed(t *testing.T) uint64 {
	if s := os.Getenv("ATOMICFILE_TEST_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ATOMICFILE_TEST_SEED=%q: %v", s, err)
		}
		return n
	}
	return 1
}

func TestCrash(t *testing.T) {
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" || runtime.GOOS == "ios" {
		t.Skip("cannot run subprocesses")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no executable:", err)
	}
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	current := crashContent(0)
	if err := os.WriteFile(path, current, 0o644); err != nil {
		t.Fatal(err)
	}
	const runs = 20
	var killedMidWrite, completed int
	for v := 1; v <= runs; v++ {
		// One run in four completes; the others pause at a chunk
		// boundary or, with crashChunks, after the last flush.
		pause := crashNoPause
		if v%4 != 0 {
			pause = rng.IntN(crashChunks + 1)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(),
			helperEnv+"=crash",
			"ATOMICFILE_TEST_PATH="+path,
			"ATOMICFILE_TEST_VERSION="+strconv.Itoa(v),
			"ATOMICFILE_TEST_PAUSE="+strconv.Itoa(pause))
		stderr := &syncBuffer{}
		cmd.Stderr = stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		exited := make(chan error, 1)
		wait := func() error {
			go func() {
				for range lines { // drain, so Wait's copy of stdout ends
				}
				exited <- cmd.Wait()
			}()
			select {
			case err := <-exited:
				return err
			case <-time.After(crashWait):
				cmd.Process.Kill()
				t.Fatalf("version %d: the helper had not exited %v after it finished or was killed\nstderr: %s", v, crashWait, stderr)
			}
			return nil
		}
		if pause == crashNoPause {
			if l := nextLine(t, lines, "written the file", stderr); l != "done" {
				t.Fatalf("version %d: helper printed %q, want \"done\"\nstderr: %s", v, l, stderr)
			}
			if err := wait(); err != nil {
				t.Fatalf("version %d: helper failed: %v\nstderr: %s", v, err, stderr)
			}
		} else {
			if l := nextLine(t, lines, "paused mid-write", stderr); l != "paused" {
				t.Fatalf("version %d: helper printed %q, want \"paused\"\nstderr: %s", v, l, stderr)
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
				t.Fatalf("version %d: kill: %v", v, err)
			}
			if err := wait(); err == nil {
				t.Fatalf("version %d: the paused helper exited cleanly; want it killed mid-write", v)
			}
		}

		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		next := crashContent(v)
		switch {
		case pause != crashNoPause && bytes.Equal(got, current):
			killedMidWrite++
		case pause == crashNoPause && bytes.Equal(got, next):
			completed++
			current = next
		case pause != crashNoPause:
			t.Fatalf("version %d killed at pause point %d (seed %d): target has %d bytes, want version %d complete (%d bytes)",
				v, pause, seed, len(got), v-1, len(current))
		default:
			t.Fatalf("version %d written to the end: target has %d bytes, want version %d complete (%d bytes)", v, len(got), v, len(next))
		}
	}
	leftovers := len(dirNames(t, dir)) - 1
	t.Logf("%d runs (seed %d): %d killed mid-write left the old content, %d completed; %d temporaries left over", runs, seed, killedMidWrite, completed, leftovers)
	if leftovers != killedMidWrite {
		t.Errorf("temporaries left: got %d, want one per mid-write kill, %d", leftovers, killedMidWrite)
	}
	n, err := CleanTemps(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != leftovers {
		t.Errorf("CleanTemps: got %d removed, want %d", n, leftovers)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"target"}) {
		t.Errorf("after CleanTemps: got %q, want only target", names)
	}
}
