package term

import (
	"io"
	"unicode/utf8"
)

// Writer passes output to a terminal of Width columns, cutting each line
// to Width-1 columns. A progress line redrawn after "\r" must fit on one
// row: "\r" returns only to the start of the row the cursor is on, so a
// line that wrapped leaves its first rows behind at every redraw. The last
// column stays free because some terminals wrap as soon as it is written.
//
// Escape sequences (ESC, '[', parameters, a final byte) take no columns
// and are kept, except colour ones (ending in 'm') when NoColor is set.
// Every rune counts as one column, which holds for the progress bar's
// ASCII and box-drawing characters but not for wide East Asian ones. A
// Width below 2 cuts nothing.
type Writer struct {
	W       io.Writer
	Width   int
	NoColor bool

	col     int    // columns written on the current row
	esc     []byte // an escape sequence not yet complete
	pending []byte // an incomplete UTF-8 sequence from the last Write
	buf     []byte
}

// IsTerminal reports true: a Writer stands for the terminal it writes to.
func (w *Writer) IsTerminal() bool { return true }

// Write writes p with lines cut to the width and reports len(p) written
// unless the underlying writer fails.
func (w *Writer) Write(p []byte) (int, error) {
	w.buf = w.buf[:0]
	in := append(w.pending, p...)
	w.pending = nil
	for len(in) > 0 {
		r, n := utf8.DecodeRune(in)
		if r == utf8.RuneError && n == 1 && !utf8.FullRune(in) {
			w.pending = append([]byte(nil), in...) // the rest comes in the next Write
			break
		}
		w.rune(in[:n], r)
		in = in[n:]
	}
	if _, err := w.W.Write(w.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// rune handles one rune, whose bytes are b.
func (w *Writer) rune(b []byte, r rune) {
	switch {
	case w.esc != nil:
		w.esc = append(w.esc, b...)
		if len(w.esc) == 2 && r != '[' || len(w.esc) > 2 && r >= 0x40 && r <= 0x7e {
			if !(w.NoColor && r == 'm') {
				w.buf = append(w.buf, w.esc...)
			}
			w.esc = nil
		}
	case r == 0x1b:
		w.esc = append(make([]byte, 0, 8), b...)
	case r == '\r' || r == '\n':
		w.col = 0
		w.buf = append(w.buf, b...)
	case w.Width < 2 || w.col < w.Width-1:
		w.col++
		w.buf = append(w.buf, b...)
	}
}
