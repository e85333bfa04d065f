package tensorboard

import (
	"bufio"
	"errors"
	"testing"
)

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// A disk error is returned by the call that meets it, by every later one,
// and by Close.
func TestDiskErrorReturned(t *testing.T) {
	w, err := NewWriter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	disk := errors.New("no space left on device")
	w.bw = bufio.NewWriterSize(failWriter{disk}, 16) // smaller than any record
	if err := w.Scalar("loss", 1, 1); !errors.Is(err, disk) {
		t.Fatalf("Scalar: got %v, want the disk error", err)
	}
	if err := w.Histogram("h", 1, []float64{1}); !errors.Is(err, disk) {
		t.Errorf("Histogram after the error: got %v, want the disk error", err)
	}
	if err := w.Flush(); !errors.Is(err, disk) {
		t.Errorf("Flush after the error: got %v, want the disk error", err)
	}
	if err := w.Close(); !errors.Is(err, disk) {
		t.Errorf("Close after the error: got %v, want the disk error", err)
	}
}

// Errors that surface only when the buffer is flushed are returned by Flush.
func TestFlushErrorReturned(t *testing.T) {
	w, err := NewWriter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.f.Close()
	disk := errors.New("input/output error")
	w.bw = bufio.NewWriterSize(failWriter{disk}, 1<<20)
	if err := w.Scalar("loss", 1, 1); err != nil {
		t.Fatalf("buffered Scalar: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, disk) {
		t.Errorf("Flush: got %v, want the disk error", err)
	}
}
