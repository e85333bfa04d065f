package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// rssEnv, set to a file's path, makes this program a go-between (runGoBetween)
// for one peak-RSS measurement.
//
// Why a go-between: Go starts a child with vfork (the child borrows the
// parent's memory until it execs), and on exec Linux folds the high-water
// RSS of the memory it leaves into the process's ru_maxrss. A child of
// the runner, which holds MNIST and has run the CNN at batch 1000, would
// report the runner's peak (a smoke run read 1593 MiB for every child), and so
// would the child's own getrusage. Started from a small go-between, a
// child inherits the go-between's few MiB instead.
const rssEnv = "MYELIN_COMPARE_RSS_FILE"

// runRSS runs cmd (its path, arguments, directory and environment)
// through a go-between and returns its standard output and its peak RSS
// in MiB.
func runRSS(ctx context.Context, what string, cmd *exec.Cmd) ([]byte, float64, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, 0, err
	}
	f, err := os.CreateTemp("", "compare-rss-")
	if err != nil {
		return nil, 0, err
	}
	f.Close()
	defer os.Remove(f.Name())
	gb := goBetweenCmd(ctx, exe, f.Name(), cmd)
	var stdout, stderr bytes.Buffer
	gb.Stdout, gb.Stderr = &stdout, &stderr
	if err := gb.Run(); err != nil {
		return nil, 0, fmt.Errorf("%s: %v\n%s", what, err, stderr.String())
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return nil, 0, err
	}
	rss, err := strconv.ParseFloat(strings.TrimSpace(string(data)), 64)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: the go-between wrote %q: %v", what, data, err)
	}
	return stdout.Bytes(), rss, nil
}

// goBetweenCmd is the command that runs exe as a go-between for cmd,
// writing the peak RSS to file.
func goBetweenCmd(ctx context.Context, exe, file string, cmd *exec.Cmd) *exec.Cmd {
	gb := exec.CommandContext(ctx, exe, append([]string{cmd.Path}, cmd.Args[1:]...)...)
	gb.Dir = cmd.Dir
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	gb.Env = append(append([]string(nil), env...), rssEnv+"="+file)
	return gb
}

// runGoBetween is the whole of a go-between: it runs argv with this
// process's standard streams and environment (less rssEnv) and writes its
// peak RSS in MiB to file.
func runGoBetween(file string, argv []string) error {
	if len(argv) == 0 {
		return errors.New("no command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = withoutEnv(os.Environ(), rssEnv)
	if err := cmd.Run(); err != nil {
		return err
	}
	return os.WriteFile(file, []byte(fmt.Sprintf("%g\n", peakRSS(cmd.ProcessState))), 0o644)
}

// withoutEnv returns env less the entries of key.
func withoutEnv(env []string, key string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, key+"=") {
			out = append(out, e)
		}
	}
	return out
}
