//go:build mpi

package distributed

/*
#cgo pkg-config: ompi-c
#include <mpi.h>
#include <stdlib.h>

static int myelin_init(void) {
	int provided = 0;
	int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
	if (rc != MPI_SUCCESS) return rc;
	if (provided < MPI_THREAD_SERIALIZED) return MPI_ERR_OTHER;
	// Errors come back as codes rather than ending the job in MPI, so
	// that the message can say what failed.
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	return MPI_SUCCESS;
}
static int myelin_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int myelin_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int myelin_allgather_f32(const float *s, float *r, int n) {
	return MPI_Allgather(s, n, MPI_FLOAT, r, n, MPI_FLOAT, MPI_COMM_WORLD);
}
static int myelin_allgather_f64(const double *s, double *r, int n) {
	return MPI_Allgather(s, n, MPI_DOUBLE, r, n, MPI_DOUBLE, MPI_COMM_WORLD);
}
static int myelin_bcast_f32(float *b, int n, int root) { return MPI_Bcast(b, n, MPI_FLOAT, root, MPI_COMM_WORLD); }
static int myelin_bcast_f64(double *b, int n, int root) { return MPI_Bcast(b, n, MPI_DOUBLE, root, MPI_COMM_WORLD); }
static int myelin_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int myelin_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int myelin_finalize(void) { return MPI_Finalize(); }
static void myelin_error_string(int rc, char *buf, int *len) { MPI_Error_string(rc, buf, len); }
*/
import "C"

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"unsafe"
)

// World is this process's place among the processes of an MPI job.
type World struct {
	rank, size int
	all        []float64
	parts      [][]float64
	done       bool
}

// Available reports whether this binary was built with MPI (-tags mpi).
func Available() bool { return true }

// Init joins the MPI job. Init and Finalize must be called from the same
// goroutine, which Init locks to its thread (MPI finalizes on the thread
// that initialized it); the collective calls may come from any goroutine,
// one at a time.
func Init() (*World, error) {
	runtime.LockOSThread()
	if rc := C.myelin_init(); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Init_thread", rc)
	}
	var r, s C.int
	if rc := C.myelin_rank(&r); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_rank", rc)
	}
	if rc := C.myelin_size(&s); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_size", rc)
	}
	return &World{rank: int(r), size: int(s)}, nil
}

// Finalize leaves the job; call it once, after the last collective call.
func (w *World) Finalize() error {
	if w.done {
		return nil
	}
	w.done = true
	if rc := C.myelin_finalize(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Finalize", rc)
	}
	return nil
}

// Barrier returns once every rank has called it.
func (w *World) Barrier() { w.check("MPI_Barrier", C.myelin_barrier()) }

// Abort ends every rank's process with code.
func (w *World) Abort(code int) {
	C.myelin_abort(C.int(code))
	os.Exit(code) // MPI_Abort should not return
}

func count(n int) C.int {
	if n > math.MaxInt32 {
		panic(fmt.Sprintf("distributed: %d elements in one call; MPI counts are 32-bit", n))
	}
	return C.int(n)
}

func (w *World) allgather32(send, recv []float32) {
	if len(send) == 0 {
		return
	}
	w.check("MPI_Allgather", C.myelin_allgather_f32((*C.float)(unsafe.Pointer(&send[0])), (*C.float)(unsafe.Pointer(&recv[0])), count(len(send))))
}

func (w *World) allgather64(send, recv []float64) {
	if len(send) == 0 {
		return
	}
	w.check("MPI_Allgather", C.myelin_allgather_f64((*C.double)(unsafe.Pointer(&send[0])), (*C.double)(unsafe.Pointer(&recv[0])), count(len(send))))
}

func (w *World) bcast32(buf []float32, root int) {
	if len(buf) == 0 {
		return
	}
	w.check("MPI_Bcast", C.myelin_bcast_f32((*C.float)(unsafe.Pointer(&buf[0])), count(len(buf)), C.int(root)))
}

func (w *World) bcast64(buf []float64, root int) {
	if len(buf) == 0 {
		return
	}
	w.check("MPI_Bcast", C.myelin_bcast_f64((*C.double)(unsafe.Pointer(&buf[0])), count(len(buf)), C.int(root)))
}

// check ends the job when a collective call failed: the other ranks are
// in it or past it, and no rank can go on alone.
func (w *World) check(call string, rc C.int) {
	if rc == C.MPI_SUCCESS {
		return
	}
	fmt.Fprintf(os.Stderr, "distributed: rank %d: %v; aborting the job\n", w.rank, mpiError(call, rc))
	w.Abort(1)
}

func mpiError(call string, rc C.int) error {
	buf := make([]byte, C.MPI_MAX_ERROR_STRING)
	var n C.int
	C.myelin_error_string(rc, (*C.char)(unsafe.Pointer(&buf[0])), &n)
	return fmt.Errorf("distributed: %s: %s (code %d)", call, string(buf[:n]), int(rc))
}
