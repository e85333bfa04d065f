//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

func init() { scriptCmds["ptyexec"] = cmdPtyExec }

// ptyEnv are the variables of the script's environment that ptyexec
// passes on (over the test process's own): the ones the scripts set or the
// commands read.
var ptyEnv = []string{"PATH", "HOME", "TMPDIR", "WORK", "TERM", "NO_COLOR", "COLUMNS"}

// ptyWait bounds how long ptyexec waits for its command and for the end
// of the terminal's output.
const ptyWait = 5 * time.Minute

// ptyexec OUT COLS COMMAND [ARGS...] runs COMMAND with a new pseudo-terminal
// of COLS columns as its controlling terminal, standard input and standard
// output, and writes everything the terminal received to the file OUT;
// standard error goes to the script's stderr. Unlike testscript's
// ttyin/ttyout, which close the terminal as soon as the command exits and
// so lose what it wrote last when the reader is slow (on a busy machine),
// it reads the terminal until the kernel reports its end (EIO, once every
// holder of the other side has closed it), then waits for the command.
func cmdPtyExec(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: ptyexec OUT COLS COMMAND [ARGS...]")
	}
	cols, err := strconv.Atoi(args[1])
	if err != nil || cols <= 0 {
		ts.Fatalf("ptyexec: bad COLS %q", args[1])
	}
	path, err := lookPath(ts, args[2])
	ts.Check(err)
	ctrl, tty, err := openPty(cols)
	ts.Check(err)
	defer ctrl.Close()

	cmd := exec.Command(path, args[3:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = os.Environ()
	for _, k := range ptyEnv {
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0} // fd 0 in the child
	if err := cmd.Start(); err != nil {
		tty.Close()
		ts.Fatalf("ptyexec: %v", err)
	}
	tty.Close() // the child holds the only copy: its exit ends the output

	out := make(chan []byte, 1)
	go func() {
		var b bytes.Buffer
		_, err := io.Copy(&b, ctrl)
		if err != nil && !errors.Is(err, syscall.EIO) {
			fmt.Fprintf(&b, "\n[ptyexec: reading the terminal: %v]\n", err)
		}
		out <- b.Bytes()
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(ptyWait)
	defer timer.Stop()
	var got []byte
	select {
	case got = <-out:
	case <-timer.C:
		cmd.Process.Kill()
		ts.Fatalf("ptyexec: %s wrote to its terminal for more than %v without closing it", args[2], ptyWait)
	}
	select {
	case err = <-done:
	case <-timer.C:
		cmd.Process.Kill()
		ts.Fatalf("ptyexec: %s closed its terminal but did not exit within %v", args[2], ptyWait)
	}
	ts.Logf("[ptyexec %s: %d bytes from the terminal]", args[2], len(got))
	if stderr.Len() > 0 {
		ts.Logf("[stderr]\n%s", stderr.String())
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), got, 0o666))
	if err != nil && !neg {
		ts.Fatalf("ptyexec: %s: %v", args[2], err)
	}
	if err == nil && neg {
		ts.Fatalf("ptyexec: %s succeeded unexpectedly", args[2])
	}
}

// openPty opens a new pseudo-terminal pair, the terminal side cols wide.
func openPty(cols int) (ctrl, tty *os.File, err error) {
	ctrl, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(ctrl.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		ctrl.Close()
		return nil, nil, fmt.Errorf("unlocking the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		ctrl.Close()
		return nil, nil, fmt.Errorf("numbering the pseudo-terminal: %w", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ctrl.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: uint16(cols)}); err != nil {
		ctrl.Close()
		tty.Close()
		return nil, nil, fmt.Errorf("setting the terminal's width: %w", err)
	}
	return ctrl, tty, nil
}

// lookPath finds name in the script's PATH, where testscript puts the
// commands it provides (myelin).
func lookPath(ts *testscript.TestScript, name string) (string, error) {
	if strings.Contains(name, "/") {
		return ts.MkAbs(name), nil
	}
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("ptyexec: %s not found in the script's PATH", name)
}
