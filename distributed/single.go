//go:build !mpi

package distributed

import (
	"errors"
	"os"
)

// World is this process's place in the job: without the mpi build tag,
// always a world of one.
type World struct {
	rank, size int
	all        []float64
	parts      [][]float64
}

// Available reports whether this binary was built with MPI (-tags mpi).
func Available() bool { return false }

// Init returns a world of one process. When an MPI launcher started this
// process it fails instead: each of the N processes would train alone.
func Init() (*World, error) {
	if Launched() {
		return nil, errors.New("distributed: this binary was built without MPI, but mpirun started it; rebuild with `go build -tags mpi` (needs Debian's libopenmpi-dev)")
	}
	return &World{size: 1}, nil
}

// Finalize ends the world; with one process there is nothing to end.
func (w *World) Finalize() error { return nil }

// Barrier returns at once: there is no one to wait for.
func (w *World) Barrier() {}

// Abort ends the process with code.
func (w *World) Abort(code int) { os.Exit(code) }

func (w *World) allgather32(send, recv []float32) { copy(recv, send) }
func (w *World) allgather64(send, recv []float64) { copy(recv, send) }
func (w *World) bcast32(buf []float32, root int)  {}
func (w *World) bcast64(buf []float64, root int)  {}
