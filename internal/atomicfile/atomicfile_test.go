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
// WriteFile, printing a line to stdout after each chunk; the test kills it
// with SIGKILL after a random number of chunks and checks that the target
// holds either the previous or the new version, complete.

const (
	crashChunks    = 32
	crashChunkSize = 32 << 10
)

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

func crashHelper() int {
	path := os.Getenv("ATOMICFILE_TEST_PATH")
	v, err := strconv.Atoi(os.Getenv("ATOMICFILE_TEST_VERSION"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	content := crashContent(v)
	err = WriteFile(path, 0o644, func(w io.Writer) error {
		for len(content) > 0 {
			n := min(crashChunkSize, len(content))
			if _, err := w.Write(content[:n]); err != nil {
				return err
			}
			content = content[n:]
			fmt.Println("chunk")
			time.Sleep(200 * time.Microsecond)
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

func TestCrash(t *testing.T) {
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" || runtime.GOOS == "ios" {
		t.Skip("cannot run subprocesses")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no executable:", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	current := crashContent(0)
	if err := os.WriteFile(path, current, 0o644); err != nil {
		t.Fatal(err)
	}
	var killedMidWrite, completed int
	for v := 1; v <= 20; v++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(),
			helperEnv+"=crash",
			"ATOMICFILE_TEST_PATH="+path,
			"ATOMICFILE_TEST_VERSION="+strconv.Itoa(v))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after k lines: 0 kills before or during the first chunk,
		// crashChunks during the flush, fsync or rename; above that the
		// helper has printed "done" and exited by the time of the kill.
		k := rand.IntN(crashChunks + 8)
		sc := bufio.NewScanner(stdout)
		done := false
		for i := 0; i < k && sc.Scan(); i++ {
			done = sc.Text() == "done"
		}
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		cmd.Process.Kill() // SIGKILL on Unix; fails harmlessly if already exited
		for sc.Scan() {
			done = done || sc.Text() == "done"
		}
		werr := cmd.Wait()
		if werr == nil && !done {
			t.Fatalf("version %d: helper exited without writing: %s", v, stderr.Bytes())
		}

		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		next := crashContent(v)
		switch {
		case bytes.Equal(got, current):
			killedMidWrite++
		case bytes.Equal(got, next):
			completed++
			current = next
		default:
			t.Fatalf("version %d killed after %d chunks: target has %d bytes, neither version %d nor %d", v, k, len(got), v-1, v)
		}
	}
	leftovers := len(dirNames(t, dir)) - 1
	t.Logf("20 runs: %d left the old content, %d the new; %d temporaries left over", killedMidWrite, completed, leftovers)
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
