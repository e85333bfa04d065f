package atomicfile

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// nobody is the conventional unprivileged user and group id on Linux.
const nobody = 65534

// runReadOnlyUnprivileged runs checkReadOnly in a copy of the test binary
// started as user nobody, since root can write to read-only directories.
func runReadOnlyUnprivileged(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no executable:", err)
	}
	// t.TempDir's parents are private to root; make a world-searchable one.
	top, err := os.MkdirTemp("", "atomicfile-ro-")
	if err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(top, "ro")
	t.Cleanup(func() {
		os.Chmod(ro, 0o755)
		os.RemoveAll(top)
	})
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(top, "atomicfile.test")
	if err := copyFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ro, "target"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=readonly", "ATOMICFILE_TEST_PATH="+ro)
	cmd.Dir = top
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Skip("cannot start the check as an unprivileged user:", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(crashWait):
		cmd.Process.Kill()
		t.Fatalf("the unprivileged WriteFile check had not exited after %v", crashWait)
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
			t.Errorf("as user %d: %s", nobody, bytes.TrimSpace(out.Bytes()))
			return
		}
		// Could not exec the copy (noexec mount, no access): not a WriteFile problem.
		t.Skipf("unprivileged check did not run: %v: %s", err, out.Bytes())
	}
	if got, err := os.ReadFile(filepath.Join(ro, "target")); err != nil || string(got) != "old" {
		t.Errorf("target: got %q, %v, want \"old\", nil", got, err)
	}
}

func copyFile(dst, src string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
