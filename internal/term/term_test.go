package term

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var nilFile *os.File
	for name, out := range map[string]io.Writer{"regular file": f, "pipe": w, "buffer": &bytes.Buffer{}, "nil *os.File": nilFile} {
		if IsTerminal(out) {
			t.Errorf("%s reported as a terminal", name)
		}
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !IsTerminal(tty) {
			t.Error("/dev/tty not reported as a terminal")
		}
	}
}

func TestWriter(t *testing.T) {
	const bar = "\r 12/100 ━━\x1b[2m━━━━\x1b[0m ETA: 3s - loss: 0.1234\x1b[K"
	tests := []struct {
		name    string
		width   int
		noColor bool
		writes  []string
		want    string
	}{
		{"fits", 80, false, []string{bar}, bar},
		{"cut to width-1", 20, false, []string{bar}, "\r 12/100 ━━\x1b[2m━━━━\x1b[0m ETA:\x1b[K"},
		{"no colour", 80, true, []string{bar}, "\r 12/100 ━━━━━━ ETA: 3s - loss: 0.1234\x1b[K"},
		{"newline starts a row", 6, false, []string{"abcdefgh\nijklmnop"}, "abcde\nijklm"},
		{"row continues across writes", 6, false, []string{"abc", "defgh", "\rxy"}, "abcde\rxy"},
		{"escape split across writes", 80, true, []string{"a\x1b[", "2mb\x1b", "[0mc"}, "abc"},
		{"rune split across writes", 3, false, []string{"\xe2\x94", "\x81━━━"}, "━━"},
		{"width 0 cuts nothing", 0, false, []string{bar}, bar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := &Writer{W: &b, Width: tt.width, NoColor: tt.noColor}
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q): got %d, %v; want %d, nil", s, n, err, len(s))
				}
			}
			if got := b.String(); got != tt.want {
				t.Errorf("writes %q at width %d: got %q, want %q", tt.writes, tt.width, got, tt.want)
			}
		})
	}
	if !IsTerminal(&Writer{W: io.Discard}) {
		t.Error("a *Writer not reported as a terminal")
	}
	if IsTerminal(plain{os.Stdout}) {
		t.Error("plain (TERM=dumb) reported as a terminal")
	}
}

func TestProgressNotTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := Progress(f); got != io.Writer(f) {
		t.Errorf("Progress(regular file): got %T, want the file itself", got)
	}
}

func TestWidthColumns(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out")) // no window size: $COLUMNS decides
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tt := range []struct {
		columns string
		want    int
	}{{"132", 132}, {"", 80}, {"x", 80}, {"-3", 80}} {
		t.Setenv("COLUMNS", tt.columns)
		if got := Width(f); got != tt.want {
			t.Errorf("COLUMNS=%q: got width %d, want %d", tt.columns, got, tt.want)
		}
	}
}
