// Package reduce sums the partial results of one global batch that was
// split into shards: the shards of a batch running on a process's
// goroutines (Local), and the processes of a distributed run (package
// distributed), behind one interface, Group.
//
// # Why a fixed order
//
// Floating-point addition is not associative, so a sum whose order
// depended on which shard finished first, or on how many threads or
// processes there are, would give different bits from run to run. Every
// sum here is taken in one fixed order, a pairwise tree over the shard
// indices (Tree): shard 0 + shard 1, shard 2 + shard 3, then those pairs,
// and so on. A participant that holds an aligned block of 2^k shards (the
// shards of one process, say) can sum its block locally and send only
// that: the tree above the blocks is the same tree. So the result depends
// on the shard size, which the user chooses, and never on the number of
// threads; and with a power-of-two number of shards per process, not on
// the number of processes either.
//
// # What is reduced
//
// Data-parallel training reduces two things per step. Parameter gradients:
// each shard's backward pass writes its own, and the model adds them in
// tree order (in parallel over element ranges: each element's sum is the
// same tree). Batch normalization's statistics: a shard cannot normalize
// with its own mean and variance and still compute what one pass over the
// whole batch computes, so in training it calls Group.AllReduce with its
// per-feature partial sums — Σx, then Σ(x − μ)², and in backward Σdy and
// Σdy·x̂ — and continues with the batch's totals (see nn.BatchNormSync).
package reduce

import (
	"fmt"

	"github.com/myelin-go/myelin/internal/kernel"
)

// Group is the participants that share one global batch: each calls
// AllReduce the same number of times, in the same order, with buffers of
// the same length, and each gets the same sum.
type Group interface {
	// Rank is this participant's index in [0, Size).
	Rank() int
	// Size is the number of participants.
	Size() int
	// AllReduce replaces buf, on every participant, with the element-wise
	// sum of every participant's buf, added in Tree order, so that every
	// participant holds identical bits. It blocks until all have called
	// it.
	AllReduce(buf []float64)
	// Barrier blocks until every participant has called it.
	Barrier()
}

// Ranks is a Group of processes (package distributed binds MPI's): what
// data-parallel training needs besides Group's sums. Every method is
// collective: all ranks call it, in the same order, with buffers of the
// same length.
type Ranks interface {
	Group
	// AllGather sets recv, of Size()·len(send) elements, to every rank's
	// send laid end to end in rank order.
	AllGather(send, recv []float32)
	// AllGather64 is AllGather for float64.
	AllGather64(send, recv []float64)
	// Broadcast copies root's buf into every rank's buf.
	Broadcast(buf []float32, root int)
	// Broadcast64 is Broadcast for float64.
	Broadcast64(buf []float64, root int)
	// Abort ends every rank's process with code, from any one rank: the
	// others are blocked in a collective call they would never leave.
	Abort(code int)
}

// Tree adds parts[1:] into parts[0] in pairwise tree order over the
// indices (see the package doc), overwriting the other parts on the way.
// All parts must have the same length.
func Tree[T float32 | float64](parts [][]T) {
	TreeRange(parts, 0, len(parts[0]))
}

// TreeRange is Tree on the elements [lo, hi) only: workers that split a
// long sum into ranges get, element by element, Tree's bits.
func TreeRange[T float32 | float64](parts [][]T, lo, hi int) {
	n := len(parts)
	for s := 1; s < n; s *= 2 {
		for i := 0; i+s < n; i += 2 * s {
			d := parts[i][lo:hi]
			add(d, d, parts[i+s][lo:hi])
		}
	}
}

// TreeSum returns the sum of v in Tree order (v is overwritten): the sum
// of one number per shard or rank, as AllReduce would add them.
func TreeSum(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	n := len(v)
	for s := 1; s < n; s *= 2 {
		for i := 0; i+s < n; i += 2 * s {
			v[i] += v[i+s]
		}
	}
	return v[0]
}

// TreeInto sets dst to Tree's sum of parts without writing the parts,
// with scratch holding at least (len(parts)+1)/2 floats (more makes it
// faster, up to 256 per pair). With the parts read-only, workers that each
// sum a range into a buffer of their own move no cache line of another
// worker's parts into their caches for writing.
func TreeInto[T float32 | float64](dst []T, parts [][]T, scratch []T) {
	n := len(parts)
	switch n {
	case 1:
		copy(dst, parts[0][:len(dst)])
		return
	case 2:
		add(dst, parts[0][:len(dst)], parts[1][:len(dst)])
		return
	}
	h := (n + 1) / 2
	chunk := min(len(scratch)/h, 256)
	if chunk < 1 {
		panic(fmt.Sprintf("reduce: TreeInto: %d parts need a scratch of %d, got %d", n, h, len(scratch)))
	}
	for lo := 0; lo < len(dst); lo += chunk {
		hi := min(lo+chunk, len(dst))
		w := hi - lo
		// The tree's first level into the scratch, the rest there.
		for i := range h {
			t := scratch[i*w : (i+1)*w]
			if 2*i+1 < n {
				add(t, parts[2*i][lo:hi], parts[2*i+1][lo:hi])
			} else {
				copy(t, parts[2*i][lo:hi])
			}
		}
		for s := 1; s < h; s *= 2 {
			for i := 0; i+s < h; i += 2 * s {
				t := scratch[i*w : (i+1)*w]
				add(t, t, scratch[(i+s)*w:(i+s+1)*w])
			}
		}
		copy(dst[lo:hi], scratch[:w])
	}
}

// add sets dst = a + b element by element, one rounding each, so that the
// vector kernel and the loop agree bit for bit.
func add[T float32 | float64](dst, a, b []T) {
	if d, ok := any(dst).([]float32); ok {
		kernel.AddTo(d, any(a).([]float32), any(b).([]float32))
		return
	}
	b = b[:len(a)]
	dst = dst[:len(a)]
	for j, v := range a {
		dst[j] = v + b[j]
	}
}
