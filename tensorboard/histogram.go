package tensorboard

import (
	"math"
	"sort"
	"sync"

	"github.com/myelin-go/myelin/internal/protowire"
)

// bucketLimits returns TensorFlow's default histogram bucket edges (those of
// tf.summary.histogram in TF 1 and of the C++ histogram::Histogram): 0, then
// ±1e-12·1.1^k for every k with 1e-12·1.1^k < 1e20, then ±math.MaxFloat64,
// in increasing order — 1551 edges. Bucket i holds the values v with
// limit[i-1] ≤ v < limit[i] (the first bucket is unbounded below), so a
// value's relative error from its bucket's edge is under 10% over 32 orders
// of magnitude either side of zero.
var bucketLimits = sync.OnceValue(func() []float64 {
	var pos []float64
	for v := 1e-12; v < 1e20; v *= 1.1 {
		pos = append(pos, v)
	}
	pos = append(pos, math.MaxFloat64)
	limits := make([]float64, 0, 2*len(pos)+1)
	for i := len(pos) - 1; i >= 0; i-- {
		limits = append(limits, -pos[i])
	}
	limits = append(limits, 0)
	return append(limits, pos...)
})

// histogram is a HistogramProto's content.
type histogram struct {
	min, max, num, sum, sumSquares float64
	limits, counts                 []float64 // parallel; runs of empty buckets collapsed
	bins                           []float64 // scratch: a count for every default bucket
}

// fill counts finite values into the default buckets, reusing h's slices. As TensorFlow does, each run of empty buckets is written as one
// empty bucket ending at the run's last edge, which keeps a histogram of
// weights to a few dozen buckets; TensorBoard drops the empty ones at either
// end and puts the outer edges at min and max.
func (h *histogram) fill(values []float64) {
	limits := bucketLimits()
	if len(h.bins) != len(limits) {
		h.bins = make([]float64, len(limits))
	}
	counts := h.bins
	clear(counts)
	h.min, h.max, h.num, h.sum, h.sumSquares = 0, 0, float64(len(values)), 0, 0
	if len(values) > 0 {
		h.min, h.max = math.Inf(1), math.Inf(-1)
	}
	for _, v := range values {
		h.min = min(h.min, v)
		h.max = max(h.max, v)
		h.sum += v
		h.sumSquares += v * v
		// The first edge above v, as C++'s upper_bound; MaxFloat64 itself
		// would fall past the last edge, so it goes in the last bucket.
		i := sort.Search(len(limits), func(i int) bool { return limits[i] > v })
		counts[min(i, len(limits)-1)]++
	}
	h.limits, h.counts = h.limits[:0], h.counts[:0]
	for i := 0; i < len(counts); {
		end, c := limits[i], counts[i]
		i++
		if c == 0 {
			for i < len(counts) && counts[i] == 0 {
				end = limits[i]
				i++
			}
		}
		h.limits = append(h.limits, end)
		h.counts = append(h.counts, c)
	}
}

// appendHistogram appends the HistogramProto fields of h:
//
//	double min = 1; double max = 2; double num = 3; double sum = 4;
//	double sum_squares = 5;
//	repeated double bucket_limit = 6 [packed = true];
//	repeated double bucket = 7 [packed = true];
func appendHistogram(b []byte, h *histogram) []byte {
	b = protowire.AppendDouble(b, 1, h.min)
	b = protowire.AppendDouble(b, 2, h.max)
	b = protowire.AppendDouble(b, 3, h.num)
	b = protowire.AppendDouble(b, 4, h.sum)
	b = protowire.AppendDouble(b, 5, h.sumSquares)
	b = protowire.AppendPackedDoubles(b, 6, h.limits)
	return protowire.AppendPackedDoubles(b, 7, h.counts)
}
