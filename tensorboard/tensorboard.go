// Package tensorboard writes training runs as TensorBoard event files, so
// that a myelin run can be opened with `tensorboard --logdir DIR`.
//
// A Writer writes scalars (Scalar) and histograms (Histogram) to one file in
// a directory; TensorBoard shows each directory of event files as one run,
// so give each run its own. A Callback does it during model.Fit: the epoch
// logs, the running batch logs every few steps, and a histogram of every
// weight of every layer each epoch.
//
// # Format
//
// An event file, named events.out.tfevents.<unix seconds>.<host>, is a
// sequence of TFRecords, each framed as
//
//	uint64 length          little-endian
//	uint32 masked CRC-32C  of the 8 length bytes
//	[length]byte data
//	uint32 masked CRC-32C  of the data
//
// where the CRC is Castagnoli's, masked as ((c>>15 | c<<17) + 0xa282ead8)
// (see MaskedCRC). Each record's data is one serialized tensorboard.Event
// protocol buffer: wall_time (1, double), step (2, int64) and either
// file_version (3, string; "brain.Event:2" in the first record) or summary
// (5, Summary). A Summary holds repeated Value (1), each a tag (1, string)
// with a simple_value (2, float) for a scalar or a histo (5, HistogramProto)
// for a histogram. These are TensorBoard's legacy summary kinds, which it
// still reads and converts on load; they need no plugin metadata.
// Histograms use TensorFlow's default bucket edges (see Writer.Histogram).
//
// # Why no protobuf dependency
//
// The writer needs four small messages and fifteen fields of them, and
// encoding them by hand takes a page (internal/protowire, shared with
// package onnx): keys, varints, little-endian doubles and length-prefixed
// bytes. Published protocol buffer
// field numbers never change, so the page does not go stale; the
// alternative is google.golang.org/protobuf plus code generated from
// TensorBoard's .proto files, two more things to keep in step. The tests
// read the files back with protowire's decoder, which is written from the
// wire-format specification apart from its encoders, and with protoc where
// it is installed.
package tensorboard

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/myelin-go/myelin/internal/protowire"
)

// FileVersion is the file_version of the first event of every file.
const FileVersion = "brain.Event:2"

// ErrClosed is returned by a Writer's methods after Close.
var ErrClosed = errors.New("tensorboard: Writer is closed")

// Writer writes events to one event file. Its methods are safe for
// concurrent use. Writes are buffered: call Flush to make them visible to a
// TensorBoard reading the run live, and Close at the end. The first error
// from the disk is returned by that call and every later one.
type Writer struct {
	mu     sync.Mutex
	f      *os.File
	bw     *bufio.Writer
	path   string
	ev     []byte // the event being encoded
	rec    []byte // the event framed as a record
	h      histogram
	err    error // sticky: the first write error
	closed bool
}

// NewWriter creates dir if needed and a new event file in it, and writes
// the file-version event. The name is TensorFlow's,
// events.out.tfevents.<unix seconds>.<hostname>, with ".1", ".2", ...
// appended when a file of that name exists (TensorBoard reads every file
// whose name contains "tfevents").
func NewWriter(dir string) (*Writer, error) {
	if dir == "" {
		return nil, errors.New("tensorboard: NewWriter: empty directory name")
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" || !filepath.IsLocal(host) {
		host = "localhost"
	}
	now := time.Now()
	base := fmt.Sprintf("events.out.tfevents.%010d.%s", now.Unix(), host)
	var f *os.File
	for i := 0; ; i++ {
		name := base
		if i > 0 {
			name += "." + strconv.Itoa(i)
		}
		f, err = os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil || !errors.Is(err, os.ErrExist) || i == 1000 {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	w := &Writer{f: f, bw: bufio.NewWriterSize(f, 64<<10), path: f.Name()}
	w.ev = protowire.AppendDouble(w.ev[:0], 1, wallTime(now))
	w.ev = protowire.AppendString(w.ev, 3, FileVersion)
	err = w.writeEvent()
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Path returns the event file's path.
func (w *Writer) Path() string { return w.path }

// Scalar writes v as the value of tag at step. TensorBoard stores scalars
// as float32, so v is rounded to one; NaN and infinities are written as
// they are.
func (w *Writer) Scalar(tag string, step int64, v float64) error {
	if err := checkTag(tag); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	// Value { tag = 1; simple_value = 2 }
	b, value := w.beginSummary(step)
	b = protowire.AppendString(b, 1, tag)
	b = protowire.AppendFloat(b, 2, float32(v))
	w.ev = w.endSummary(b, value)
	return w.writeEvent()
}

// Histogram writes the distribution of values as tag at step. The buckets
// are TensorFlow's defaults: edges at 0 and ±1e-12·1.1^k up to ±1e20, so
// each bucket spans 10% of its distance from zero, with runs of empty
// buckets merged; the proto also holds the exact min, max, count, sum and
// sum of squares. Values must be finite.
func (w *Writer) Histogram(tag string, step int64, values []float64) error {
	if err := checkTag(tag); err != nil {
		return err
	}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("tensorboard: Histogram %q: value %d is %g; values must be finite", tag, i, v)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	w.h.fill(values)
	// Value { tag = 1; histo = 5 }
	b, value := w.beginSummary(step)
	b = protowire.AppendString(b, 1, tag)
	b, histo := protowire.BeginMessage(b, 5)
	b = appendHistogram(b, &w.h)
	b = protowire.EndMessage(b, histo)
	w.ev = w.endSummary(b, value)
	return w.writeEvent()
}

// Flush writes buffered events to the file.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	return w.flush()
}

// Close flushes and closes the file. Calling it again does nothing.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.err
	if err == nil {
		err = w.flush()
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("tensorboard: %w", cerr)
	}
	return err
}

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// beginSummary starts an event at step with a summary holding one value,
// and returns the buffer and the value's body index for endSummary.
//
//	Event { wall_time = 1; step = 2; summary = 5 { value = 1 { ... } } }
func (w *Writer) beginSummary(step int64) ([]byte, [2]int) {
	b := protowire.AppendDouble(w.ev[:0], 1, wallTime(time.Now()))
	if step != 0 { // proto3 leaves zero values out
		b = protowire.AppendInt(b, 2, step)
	}
	b, summary := protowire.BeginMessage(b, 5)
	b, value := protowire.BeginMessage(b, 1)
	return b, [2]int{summary, value}
}

func (w *Writer) endSummary(b []byte, bodies [2]int) []byte {
	return protowire.EndMessage(protowire.EndMessage(b, bodies[1]), bodies[0])
}

// writeEvent frames w.ev as a record and writes it to the buffer.
func (w *Writer) writeEvent() error {
	w.rec = appendRecord(w.rec[:0], w.ev)
	if _, err := w.bw.Write(w.rec); err != nil {
		w.err = fmt.Errorf("tensorboard: writing %s: %w", w.path, err)
	}
	return w.err
}

func (w *Writer) flush() error {
	if err := w.bw.Flush(); err != nil && w.err == nil {
		w.err = fmt.Errorf("tensorboard: writing %s: %w", w.path, err)
	}
	return w.err
}

// wallTime is t in seconds since the Unix epoch, as Event.wall_time holds it.
func wallTime(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func checkTag(tag string) error {
	if tag == "" {
		return errors.New("tensorboard: empty tag")
	}
	if !utf8.ValidString(tag) { // protobuf strings must be UTF-8; readers reject others
		return fmt.Errorf("tensorboard: tag %q is not valid UTF-8", tag)
	}
	return nil
}
