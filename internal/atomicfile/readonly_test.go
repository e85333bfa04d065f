package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// checkReadOnly tries WriteFile in the read-only directory dir, which holds
// only "target" with content "old", and describes anything unexpected.
func checkReadOnly(dir string) error {
	path := filepath.Join(dir, "target")
	if err := WriteFile(path, 0o644, writeString("new")); err == nil {
		return fmt.Errorf("WriteFile in read-only directory: got nil error, want an error")
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "old" {
		return fmt.Errorf("target: got %q, %v, want \"old\", nil", got, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) != 1 {
		return fmt.Errorf("directory: got %d entries, want only target", len(entries))
	}
	return nil
}

// readOnlyHelper runs checkReadOnly in a subprocess, for runReadOnlyUnprivileged.
func readOnlyHelper() int {
	if err := checkReadOnly(os.Getenv("ATOMICFILE_TEST_PATH")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestReadOnlyDir(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("directory permission bits do not stop file creation here")
	}
	if os.Geteuid() == 0 {
		// Root ignores permission bits: run the check as an unprivileged user.
		runReadOnlyUnprivileged(t)
		return
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "target"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if err := checkReadOnly(dir); err != nil {
		t.Error(err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"target"}) {
		t.Errorf("directory: got %q, want only target", names)
	}
}
