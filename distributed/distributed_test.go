package distributed_test

import (
	"strings"
	"testing"

	"github.com/myelin-go/myelin/distributed"
)

// TestWorldBasics holds in every build: run alone (not under mpirun), a
// world is rank 0 of however many mpirun gave it, and its calls check
// their arguments.
func TestWorldBasics(t *testing.T) {
	if distributed.Launched() {
		t.Skip("started by mpirun: mpi_test.go's tests run instead")
	}
	if distributed.Available() {
		t.Skip("an MPI build run without mpirun: see mpitest.sh")
	}
	w, err := distributed.Init()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Finalize()
	if w.Rank() != 0 || w.Size() != 1 {
		t.Fatalf("a world of one: rank %d size %d", w.Rank(), w.Size())
	}
	buf := []float64{1, 2}
	w.AllReduce(buf)
	if buf[0] != 1 || buf[1] != 2 {
		t.Fatalf("AllReduce on one rank changed %v", buf)
	}
	recv := make([]float32, 2)
	w.AllGather([]float32{3, 4}, recv)
	if recv[0] != 3 || recv[1] != 4 {
		t.Fatalf("AllGather = %v", recv)
	}
	w.Broadcast(recv, 0)
	w.Barrier()
	for _, tc := range []struct {
		f    func()
		want string
	}{
		{func() { w.AllGather([]float32{1}, make([]float32, 2)) }, "recv holds 2 elements, want 1 ranks × 1 sent"},
		{func() { w.Broadcast64([]float64{1}, 1) }, "root 1 outside the 1 ranks"},
	} {
		func() {
			defer func() {
				if e := recover(); e == nil || !strings.Contains(e.(string), tc.want) {
					t.Errorf("panic %v, want one with %q", e, tc.want)
				}
			}()
			tc.f()
		}()
	}
}
