// Package atomicfile writes files atomically: readers of the target path see
// either the previous content or the complete new content, never a partial
// write, even if the writing process is killed part way through.
//
// The new content is written to a temporary file in the same directory as
// the target, flushed to stable storage, and renamed over the target; the
// directory is then flushed so the rename itself is durable. The temporary
// file is named "."+base+".tmp-"+16 lowercase hexadecimal digits, where base
// is the target's file name, so leftovers of a crashed writer can be found
// and removed with CleanTemps.
package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// tmpInfix separates the target's base name from the random suffix in the
// name of a temporary file.
const tmpInfix = ".tmp-"

// suffixLen is the number of hexadecimal digits in a temporary file's suffix.
const suffixLen = 16

// WriteFile writes data produced by write to path atomically: a temporary
// file in the same directory (name starting with "."+base+".tmp-"), fsync,
// close, rename over path, fsync the directory.
// On any error the temporary is removed and the previous file at path is
// untouched; this holds too if write panics (the panic continues).
//
// The file is created with permissions perm (before the umask); the mode of
// a previous file at path is not carried over, and a symbolic link at path
// is replaced by the file, not followed. write gets a
// buffered writer; it must not retain it after returning. An error returned
// by write is returned unchanged, so callers can inspect it with errors.Is
// and errors.As. Other errors begin with "atomicfile:" and name the file
// concerned.
//
// If only the final directory fsync fails, the new content is already in
// place at path but may not survive a power loss; the error says so.
func WriteFile(path string, perm os.FileMode, write func(io.Writer) error) error {
	if write == nil {
		return errors.New("atomicfile: nil write function")
	}
	dir, base := filepath.Split(path)
	if base == "" || base == "." || base == ".." {
		return fmt.Errorf("atomicfile: %q does not name a file", path)
	}
	if dir == "" {
		dir = "."
	}
	f, tmp, err := createTemp(dir, base, perm)
	if err != nil {
		return fmt.Errorf("atomicfile: create temporary for %s: %w", path, err)
	}
	renamed := false
	defer func() {
		// Runs on every error return and if write panics.
		if !renamed {
			f.Close() // may already be closed; a second Close only returns an error
			os.Remove(tmp)
		}
	}()

	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", tmp, err)
	}
	if TestHookWritten != nil {
		TestHookWritten(path, tmp)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("atomicfile: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		// The rename has happened: the temporary no longer exists and the
		// new content is visible at path. Report without cleaning up.
		return fmt.Errorf("atomicfile: %s written but directory sync failed: %w", path, err)
	}
	return nil
}

// createTemp creates a new temporary file for base in dir with exclusive
// creation, retrying on the (unlikely) collision of random names.
func createTemp(dir, base string, perm os.FileMode) (*os.File, string, error) {
	var rnd [suffixLen / 2]byte
	for try := 0; ; try++ {
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, "", err
		}
		name := filepath.Join(dir, "."+base+tmpInfix+hex.EncodeToString(rnd[:]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrExist) || try == 100 {
			return nil, "", err
		}
	}
}

// syncDir flushes the directory entry changes of dir to stable storage.
// Windows cannot open directories for syncing and makes renames durable
// itself, so there it does nothing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}

// isTempName reports whether name (a base name, no directory) has the form
// of a temporary created by WriteFile: "."+base+".tmp-"+16 lowercase hex
// digits with a non-empty base.
func isTempName(name string) bool {
	if len(name) < 1+1+len(tmpInfix)+suffixLen || name[0] != '.' {
		return false
	}
	suffix := name[len(name)-suffixLen:]
	for i := 0; i < len(suffix); i++ {
		c := suffix[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return strings.HasSuffix(name[:len(name)-suffixLen], tmpInfix)
}

// CleanTemps removes leftover temporaries of WriteFile in dir (names
// matching the pattern above) and reports how many.
//
// Only regular files whose names match exactly are removed; subdirectories
// are not searched. A temporary being written by a live WriteFile call looks
// the same as a leftover, so call CleanTemps only when no writer is active
// in dir, for example at program start. On error the count is the number of
// files removed before the error.
func CleanTemps(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("atomicfile: %w", err)
	}
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTempName(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed by someone else meanwhile
			}
			return n, fmt.Errorf("atomicfile: %w", err)
		}
		n++
	}
	return n, nil
}
