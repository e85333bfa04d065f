package safetensors

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that Read agrees with it, and
// that any accepted file survives Write and a second Parse unchanged, with
// Write's output canonical (writing it again gives the same bytes).
// The seed corpus is in testdata/fuzz/FuzzParse; more seeds are added here.
func FuzzParse(f *testing.F) {
	f.Add(pythonStyle)
	for _, tt := range badFiles {
		f.Add(tt.b)
	}
	for _, rt := range roundTripFiles {
		var buf bytes.Buffer
		if err := Write(&buf, rt); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Parse aliases its input: keep an untouched copy for Read.
		orig := bytes.Clone(b)
		file, err := Parse(b)
		rfile, rerr := Read(bytes.NewReader(orig))
		if (err == nil) != (rerr == nil) {
			t.Fatalf("Parse and Read disagree: %v vs %v", err, rerr)
		}
		if err != nil {
			if !errors.Is(err, ErrFormat) || !errors.Is(rerr, ErrFormat) {
				t.Fatalf("errors %v, %v: want both to wrap ErrFormat", err, rerr)
			}
			return
		}
		if !sameFile(file, rfile) {
			t.Fatalf("Read: got %+v, want %+v as from Parse", rfile, file)
		}
		var buf bytes.Buffer
		if err := Write(&buf, file); err != nil {
			t.Fatalf("Write of an accepted file: %v", err)
		}
		out := bytes.Clone(buf.Bytes())
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse of Write's output: %v\n%q", err, out)
		}
		if !sameFile(file, again) {
			t.Fatalf("round trip: got %+v, want %+v", again, file)
		}
		buf.Reset()
		if err := Write(&buf, again); err != nil || !bytes.Equal(buf.Bytes(), out) {
			t.Fatalf("second Write: got %q, %v, want %q", buf.Bytes(), err, out)
		}
	})
}
