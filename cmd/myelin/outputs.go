package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The rule for every path train writes, checked before training so that a
// run never trains for an hour and then fails to save: myelin creates the
// directories an output needs, like mkdir -p. --out names a file, which
// must not be a directory; --report, --checkpoint-dir and --tensorboard
// name directories, which must not be files. The usage text says so too.
const outputRule = `Output paths are checked before training starts: myelin creates the
directories they need (like mkdir -p); --out must not name a directory,
and --report, --checkpoint-dir and --tensorboard must not name files.`

// prepareFile makes sure a file can be written at path (the value of
// flag): its directory exists (created if missing) and is writable, and
// path is not a directory.
func prepareFile(flag, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("--%s %s is a directory; give a file name, such as %s", flag, path, filepath.Join(path, "model.safetensors"))
	}
	dir := filepath.Dir(path)
	if err := makeDir(dir); err != nil {
		return fmt.Errorf("--%s %s: %w", flag, path, err)
	}
	// Writable: the model is written to a temporary in dir and renamed.
	f, err := os.CreateTemp(dir, ".myelin-check-*")
	if err != nil {
		return fmt.Errorf("--%s %s: cannot write in %s: %w", flag, path, dir, bare(err))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// prepareDir makes sure dir (the value of flag) is a directory, creating
// it and its parents when missing.
func prepareDir(flag, dir string) error {
	if dir == "" {
		return nil
	}
	if err := makeDir(dir); err != nil {
		return fmt.Errorf("--%s %s: %w", flag, dir, err)
	}
	return nil
}

// makeDir makes sure dir is a directory, creating it and its parents when
// missing; its errors name dir and leave the flag to the caller.
func makeDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("%s is a file, not a directory", dir)
	case err == nil:
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, bare(err))
	}
	return nil
}

// bare drops the operation and path of a *fs.PathError, which the
// messages above say in the flag's words.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
