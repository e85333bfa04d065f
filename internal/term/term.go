// Package term tells whether output goes to a terminal, where Fit's
// progress bar is redrawn in place and a message must first clear its line.
package term

import (
	"io"
	"os"
)

// IsTerminal reports whether w is a file that is a character device (a
// terminal); pipes, regular files and other writers are not.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
