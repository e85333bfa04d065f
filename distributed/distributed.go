// Package distributed runs one training job as the processes (ranks) of
// an MPI job, behind reduce.Ranks.
//
// It binds Open MPI's C library itself, through cgo: training needs only
// a handful of collective calls (all-gather, broadcast, barrier, abort),
// which take less code to bind than a third-party module takes to audit,
// and the one property we care about, below, stays in our hands.
//
// # Building and running
//
// The binding is behind the build tag mpi and needs Open MPI's headers
// and library (Debian: libopenmpi-dev, found through pkg-config):
//
//	go build -tags mpi ./cmd/myelin
//	mpirun -np 2 ./myelin train --distributed ...
//
// Without the tag the package has no C at all: Init returns a world of one
// process (Available reports which build this is), and fails when mpirun
// started the process (Launched), rather than let N processes each train
// a copy of the model unaware of the others.
//
// # Sums
//
// AllReduce does not call MPI_Allreduce, whose order of additions depends
// on the MPI library, its algorithm and the number of ranks. It gathers
// every rank's buffer and adds the copies locally, in reduce.Tree order
// over the ranks, so that every rank holds identical bits, the bits that
// reduce.NewPeers gives in one process, whatever MPI's algorithms. The
// price is traffic: each rank receives Size buffers, not one.
//
// # Goroutines
//
// Go moves goroutines between threads, so MPI is initialized for calls
// from any thread, one at a time (MPI_THREAD_SERIALIZED): a World's
// collective calls may come from any goroutine but never from two at once.
// Init and Finalize must come from the same goroutine, which Init locks to
// its thread, since MPI finalizes on the thread that initialized it.
package distributed

import (
	"fmt"
	"os"

	"github.com/myelin-go/myelin/reduce"
)

var _ reduce.Ranks = (*World)(nil)

// Launched reports whether this process was started by Open MPI's mpirun
// or by a PMIx launcher such as srun, from the variables they set.
func Launched() bool {
	return os.Getenv("OMPI_COMM_WORLD_SIZE") != "" || os.Getenv("PMIX_RANK") != ""
}

// Rank is this process's index in [0, Size).
func (w *World) Rank() int { return w.rank }

// Size is the number of processes in the job.
func (w *World) Size() int { return w.size }

// AllReduce replaces buf, on every rank, with the element-wise sum of
// every rank's buf, added in reduce.Tree order over the ranks. Its
// scratch is kept in the World, so calls of one length allocate nothing.
func (w *World) AllReduce(buf []float64) {
	n := len(buf)
	if n == 0 || w.size == 1 { // a tree of one part adds nothing
		return
	}
	if cap(w.all) < w.size*n {
		w.all = make([]float64, w.size*n)
	}
	if len(w.parts) != w.size {
		w.parts = make([][]float64, w.size)
	}
	all := w.all[:w.size*n]
	w.allgather64(buf, all)
	for r := range w.parts {
		w.parts[r] = all[r*n : (r+1)*n]
	}
	reduce.Tree(w.parts)
	copy(buf, w.parts[0])
}

// AllGather sets recv, of Size()·len(send) elements, to every rank's send
// laid end to end in rank order.
func (w *World) AllGather(send, recv []float32) {
	w.checkGather("AllGather", len(send), len(recv))
	w.allgather32(send, recv)
}

// AllGather64 is AllGather for float64.
func (w *World) AllGather64(send, recv []float64) {
	w.checkGather("AllGather64", len(send), len(recv))
	w.allgather64(send, recv)
}

// Broadcast copies root's buf into every rank's buf.
func (w *World) Broadcast(buf []float32, root int) {
	w.checkRoot("Broadcast", root)
	w.bcast32(buf, root)
}

// Broadcast64 is Broadcast for float64.
func (w *World) Broadcast64(buf []float64, root int) {
	w.checkRoot("Broadcast64", root)
	w.bcast64(buf, root)
}

// checkGather panics on a recv of the wrong length: a programming error,
// and one that MPI would not catch before writing past the end.
func (w *World) checkGather(op string, send, recv int) {
	if recv != w.size*send {
		panic(fmt.Sprintf("distributed: %s: recv holds %d elements, want %d ranks × %d sent", op, recv, w.size, send))
	}
}

func (w *World) checkRoot(op string, root int) {
	if root < 0 || root >= w.size {
		panic(fmt.Sprintf("distributed: %s: root %d outside the %d ranks", op, root, w.size))
	}
}
