// Package term tells whether output goes to a terminal, where Fit's
// progress bar is redrawn in place and a message must first clear its line,
// and fits that output to the terminal: its width, NO_COLOR and TERM=dumb.
package term

import (
	"io"
	"os"
	"strconv"
)

// IsTerminal reports whether w is a terminal: a file that is a character
// device, or a writer that says so through an IsTerminal method (such as
// Writer, which fits lines to a terminal). Pipes, regular files and other
// writers are not.
func IsTerminal(w io.Writer) bool {
	if t, ok := w.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Progress returns the writer that progress for f should go to. When f is
// not a terminal it is f. On a terminal that cannot move the cursor
// (TERM=dumb) it is f hidden behind a plain writer, so that IsTerminal is
// false and lines are written once, never redrawn. Otherwise it is a
// *Writer that fits each line to the terminal's width and, when NO_COLOR
// is set to anything (https://no-color.org), drops colour sequences.
func Progress(f *os.File) io.Writer {
	if !IsTerminal(f) {
		return f
	}
	if os.Getenv("TERM") == "dumb" {
		return plain{f}
	}
	return &Writer{W: f, Width: Width(f), NoColor: os.Getenv("NO_COLOR") != ""}
}

// plain hides a terminal's *os.File from IsTerminal.
type plain struct{ io.Writer }

// Width returns the number of columns of the terminal f: what the kernel
// says, else $COLUMNS, else 80.
func Width(f *os.File) int {
	if n := size(f); n > 0 {
		return n
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}
