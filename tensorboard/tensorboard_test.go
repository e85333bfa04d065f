package tensorboard_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/myelin-go/myelin/tensorboard"
)

func TestCRC32CCheckValue(t *testing.T) {
	// The standard check value of CRC-32C (Castagnoli).
	if got, want := crc32cBitwise([]byte("123456789")), uint32(0xE3069283); got != want {
		t.Fatalf("test decoder's CRC-32C(\"123456789\") = %#x, want %#x", got, want)
	}
	// Masked by hand: 0xE3069283 rotated right by 15 is
	// 0x1283<<17 | 0xE3069283>>15 = 0x25060000 | 0x0001C60D = 0x2507C60D,
	// and 0x2507C60D + 0xA282EAD8 = 0xC78AB0E5.
	if got, want := tensorboard.MaskedCRC([]byte("123456789")), uint32(0xC78AB0E5); got != want {
		t.Fatalf("MaskedCRC(\"123456789\") = %#x, want %#x", got, want)
	}
	if got, want := maskCRC(0xE3069283), uint32(0xC78AB0E5); got != want {
		t.Fatalf("test decoder's mask(0xE3069283) = %#x, want %#x", got, want)
	}
}

func TestMaskedCRCCrossCheck(t *testing.T) {
	// hash/crc32's sliced and hardware paths change at lengths around 8, 16
	// and 64 and more; compare with the bitwise loop at every length.
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if got, want := tensorboard.MaskedCRC(b), maskCRC(crc32cBitwise(b)); got != want {
			t.Fatalf("MaskedCRC of %d random bytes = %#x, want %#x", n, got, want)
		}
	}
}

// newWriter returns a Writer in a fresh directory.
func newWriter(t *testing.T) *tensorboard.Writer {
	t.Helper()
	w, err := tensorboard.NewWriter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestFileName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "a") // created by NewWriter
	host, err := os.Hostname()
	if err != nil || !filepath.IsLocal(host) {
		host = "localhost"
	}
	re := regexp.MustCompile(`^events\.out\.tfevents\.(\d{10})\.` + regexp.QuoteMeta(host) + `(\.\d+)?$`)
	before := time.Now().Unix()
	seen := map[string]bool{}
	for range 3 { // within one second the names must still differ
		w, err := tensorboard.NewWriter(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if d := filepath.Dir(w.Path()); d != dir {
			t.Errorf("file in %s, want %s", d, dir)
		}
		base := filepath.Base(w.Path())
		m := re.FindStringSubmatch(base)
		if m == nil {
			t.Fatalf("file name %q does not match %s", base, re)
		}
		var sec int64
		fmt.Sscan(m[1], &sec)
		if sec < before || sec > time.Now().Unix() {
			t.Errorf("file name %q: time %d outside [%d, now]", base, sec, before)
		}
		if seen[base] {
			t.Errorf("file name %q used twice", base)
		}
		seen[base] = true
	}
}

func TestRoundTrip(t *testing.T) {
	before := float64(time.Now().UnixNano()) / 1e9
	w := newWriter(t)
	r := rand.New(rand.NewPCG(3, 4))
	normal := make([]float64, 1000)
	for i := range normal {
		normal[i] = r.NormFloat64() * 0.05
	}
	type entry struct {
		tag    string
		step   int64
		scalar float64
		histo  []float64 // nil for a scalar
	}
	entries := []entry{
		{tag: "epoch/loss", step: 1, scalar: 0.6931471805599453},
		{tag: "epoch/loss", step: 2, scalar: 0.25},
		{tag: "batch/accuracy", step: 0, scalar: 1},
		{tag: "step/negative", step: -3, scalar: -1e-7},
		{tag: "big/step", step: 1 << 40, scalar: 3e38},
		{tag: "nan", step: 5, scalar: math.NaN()},
		{tag: "inf", step: 6, scalar: math.Inf(-1)},
		{tag: "ünïcode/標籤", step: 7, scalar: 42},
		{tag: "dense/kernel", step: 0, histo: normal},
		{tag: "ones", step: 1, histo: []float64{1, 1, 1}},
		{tag: "mixed", step: 2, histo: []float64{-2, 0, 0, 1e-13, 1e-12, 3, 5e20, -math.MaxFloat64, math.MaxFloat64}},
		{tag: "one", step: 3, histo: []float64{-0.5}},
		{tag: "empty", step: 4, histo: []float64{}},
	}
	for _, e := range entries {
		var err error
		if e.histo == nil {
			err = w.Scalar(e.tag, e.step, e.scalar)
		} else {
			err = w.Histogram(e.tag, e.step, e.histo)
		}
		if err != nil {
			t.Fatalf("writing %q: %v", e.tag, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	after := float64(time.Now().UnixNano()) / 1e9
	evs, err := readEvents(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(entries)+1 {
		t.Fatalf("got %d events, want %d", len(evs), len(entries)+1)
	}
	if got := evs[0]; got.fileVersion != "brain.Event:2" || got.step != 0 || got.values != nil {
		t.Errorf("first event = %+v, want file_version brain.Event:2 alone", got)
	}
	prev := before
	for i, ev := range evs {
		// Wall times increase and lie within the test's run (with slack for
		// float64 rounding of ~1.8e9 seconds).
		if ev.wallTime < prev-1e-6 || ev.wallTime > after+1e-6 {
			t.Errorf("event %d: wall_time %f outside [%f, %f]", i, ev.wallTime, prev, after)
		}
		prev = ev.wallTime
	}
	for i, e := range entries {
		ev := evs[i+1]
		if ev.step != e.step || ev.fileVersion != "" || len(ev.values) != 1 || ev.values[0].tag != e.tag {
			t.Errorf("event %d = step %d, file_version %q, %d values; want step %d, one value tagged %q", i+1, ev.step, ev.fileVersion, len(ev.values), e.step, e.tag)
			continue
		}
		v := ev.values[0]
		if e.histo == nil {
			want := float32(e.scalar)
			if !v.isScalar || v.histo != nil || !(v.scalar == want || math.IsNaN(float64(want)) && math.IsNaN(float64(v.scalar))) {
				t.Errorf("%s: got scalar %v (set %v), histogram %v; want scalar %v", e.tag, v.scalar, v.isScalar, v.histo != nil, want)
			}
			continue
		}
		if v.isScalar || v.histo == nil {
			t.Errorf("%s: got no histogram", e.tag)
			continue
		}
		checkHisto(t, e.tag, v.histo, e.histo)
	}
}

// defaultEdges are TensorFlow's default histogram bucket limits, built here
// from their definition: 0 and ±1e-12·1.1^k below 1e20, then ±MaxFloat64.
func defaultEdges() map[float64]float64 {
	var pos []float64
	for v := 1e-12; v < 1e20; v *= 1.1 {
		pos = append(pos, v)
	}
	pos = append(pos, math.MaxFloat64)
	edges := []float64{}
	for i := len(pos) - 1; i >= 0; i-- {
		edges = append(edges, -pos[i])
	}
	edges = append(edges, 0)
	edges = append(edges, pos...)
	below := map[float64]float64{} // edge → the edge before it
	prev := math.Inf(-1)
	for _, e := range edges {
		below[e] = prev
		prev = e
	}
	return below
}

func checkHisto(t *testing.T, tag string, h *histo, values []float64) {
	t.Helper()
	lo, hi, sum, sq := 0.0, 0.0, 0.0, 0.0
	if len(values) > 0 {
		lo, hi = math.Inf(1), math.Inf(-1)
	}
	for _, v := range values {
		lo, hi, sum, sq = min(lo, v), max(hi, v), sum+v, sq+v*v
	}
	if h.min != lo || h.max != hi || h.num != float64(len(values)) || h.sum != sum || h.sumSquares != sq {
		t.Errorf("%s: min, max, num, sum, sum_squares = %g %g %g %g %g; want %g %g %d %g %g",
			tag, h.min, h.max, h.num, h.sum, h.sumSquares, lo, hi, len(values), sum, sq)
	}
	if len(h.limits) != len(h.counts) || len(h.limits) == 0 {
		t.Fatalf("%s: %d bucket limits and %d counts; want as many, at least one", tag, len(h.limits), len(h.counts))
	}
	if last := h.limits[len(h.limits)-1]; last != math.MaxFloat64 {
		t.Errorf("%s: last bucket limit %g, want MaxFloat64", tag, last)
	}
	below := defaultEdges()
	total := 0.0
	left := math.Inf(-1)
	for i, limit := range h.limits {
		c := h.counts[i]
		if limit <= left {
			t.Errorf("%s: bucket %d: limit %g not above the previous %g", tag, i, limit, left)
		}
		if _, ok := below[limit]; !ok {
			t.Errorf("%s: bucket %d: limit %g is not a default edge", tag, i, limit)
		}
		// A non-empty bucket is one default bucket [edge before, limit);
		// empty ones are runs merged into one.
		if c > 0 && below[limit] != left {
			t.Errorf("%s: bucket %d holding %g values spans [%g, %g), want one default bucket [%g, %g)", tag, i, c, left, limit, below[limit], limit)
		}
		if c == 0 && i > 0 && h.counts[i-1] == 0 {
			t.Errorf("%s: buckets %d and %d both empty; runs should be merged", tag, i-1, i)
		}
		n := 0
		for _, v := range values {
			if v >= left && v < limit || i == len(h.limits)-1 && v == limit {
				n++
			}
		}
		if c != float64(n) {
			t.Errorf("%s: bucket %d [%g, %g) counts %g, want %d", tag, i, left, limit, c, n)
		}
		total += c
		left = limit
	}
	if total != float64(len(values)) {
		t.Errorf("%s: bucket counts sum to %g, want %d", tag, total, len(values))
	}
}

func TestCorruptionDetected(t *testing.T) {
	w := newWriter(t)
	if err := w.Scalar("loss", 1, 0.5); err != nil {
		t.Fatal(err)
	}
	if err := w.Histogram("h", 1, []float64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readRecords(data); err != nil {
		t.Fatalf("intact file: %v", err)
	}
	// Flipping any one bit of any byte, header, data or footer of any
	// record, must be caught by one of the two CRCs.
	for i := range data {
		for _, bit := range []byte{0x01, 0x80} {
			bad := append([]byte(nil), data...)
			bad[i] ^= bit
			if _, err := readRecords(bad); !errors.Is(err, errCRC) {
				t.Fatalf("byte %d of %d xor %#x: got error %v, want a CRC mismatch", i, len(data), bit, err)
			}
		}
	}
	if _, err := readRecords(data[:len(data)-1]); err == nil {
		t.Error("truncated file: got no error")
	}
}

func TestWriterErrors(t *testing.T) {
	w := newWriter(t)
	tests := []struct {
		name string
		call func() error
	}{
		{"empty scalar tag", func() error { return w.Scalar("", 1, 1) }},
		{"invalid UTF-8 tag", func() error { return w.Scalar("a\xffb", 1, 1) }},
		{"empty histogram tag", func() error { return w.Histogram("", 1, []float64{1}) }},
		{"NaN in histogram", func() error { return w.Histogram("h", 1, []float64{1, math.NaN()}) }},
		{"Inf in histogram", func() error { return w.Histogram("h", 1, []float64{math.Inf(1)}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil {
				t.Error("got no error")
			}
		})
	}
	// Rejected calls leave the file as it was: only the file-version event.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if evs, err := readEvents(w.Path()); err != nil || len(evs) != 1 {
		t.Errorf("after rejected calls: %d events, error %v; want 1, nil", len(evs), err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	for name, err := range map[string]error{
		"Scalar":    w.Scalar("a", 1, 1),
		"Histogram": w.Histogram("a", 1, nil),
		"Flush":     w.Flush(),
	} {
		if !errors.Is(err, tensorboard.ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
}

func TestNewWriterErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", file, filepath.Join(file, "sub")} {
		if w, err := tensorboard.NewWriter(dir); err == nil {
			w.Close()
			t.Errorf("NewWriter(%q): got no error", dir)
		}
	}
}
