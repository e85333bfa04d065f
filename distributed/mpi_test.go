//go:build mpi

package distributed_test

import (
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/distributed"
	"github.com/myelin-go/myelin/reduce"
)

// These tests run on every rank of `mpirun -np N` (mpitest.sh). Init and
// Finalize are in TestMain, on one goroutine, as MPI needs; a failure on any rank makes that rank's exit code, and so the
// job's, non-zero.

var world *distributed.World

func TestMain(m *testing.M) {
	if !distributed.Launched() {
		fmt.Println("distributed: not started by mpirun; the MPI tests run under distributed/mpitest.sh")
		os.Exit(0)
	}
	w, err := distributed.Init()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	world = w
	// Every rank must run a benchmark the same number of times, or their
	// collective calls fall out of step; a -test.benchtime duration lets
	// each rank choose its own count, so replace it by a fixed count.
	flag.Parse()
	if !strings.HasSuffix(flag.Lookup("test.benchtime").Value.String(), "x") {
		flag.Set("test.benchtime", "500x")
	}
	code := m.Run()
	// Every rank agrees on the outcome before leaving, so that one
	// failing rank fails them all.
	ok := []float64{0}
	if code != 0 {
		ok[0] = 1
	}
	w.AllReduce(ok)
	w.Finalize()
	if ok[0] != 0 {
		code = 1
	}
	os.Exit(code)
}

// value is rank r's element i: magnitudes far apart, so that adding in
// another order gives other bits.
func value(r, i int) float64 {
	return math.Ldexp(1+float64(i%7)/8, (r*17+i*5)%60-30) * float64(1-2*(i%2))
}

func TestCollectives(t *testing.T) {
	w := world
	n, r := w.Size(), w.Rank()
	if n < 2 {
		t.Skip("one rank: run with mpirun -np 2 or more")
	}
	const l = 1000
	send := make([]float32, l)
	for i := range send {
		send[i] = float32(value(r, i))
	}
	recv := make([]float32, n*l)
	w.AllGather(send, recv)
	for k := range n {
		for i := range l {
			if recv[k*l+i] != float32(value(k, i)) {
				t.Fatalf("rank %d: AllGather element %d of rank %d = %v, want %v", r, i, k, recv[k*l+i], float32(value(k, i)))
			}
		}
	}

	b := make([]float64, 3)
	for i := range b {
		b[i] = float64(r*10 + i)
	}
	w.Broadcast64(b, n-1)
	for i := range b {
		if b[i] != float64((n-1)*10+i) {
			t.Fatalf("rank %d: Broadcast64 from %d = %v", r, n-1, b)
		}
	}

	// AllReduce adds in Tree order over the ranks: compute that here
	// from every rank's known inputs, and compare bits.
	buf := make([]float64, l)
	parts := make([][]float64, n)
	for k := range n {
		parts[k] = make([]float64, l)
		for i := range l {
			parts[k][i] = value(k, i)
		}
	}
	copy(buf, parts[r])
	reduce.Tree(parts)
	w.AllReduce(buf)
	for i := range l {
		if math.Float64bits(buf[i]) != math.Float64bits(parts[0][i]) {
			t.Fatalf("rank %d: AllReduce element %d = %v, Tree order gives %v", r, i, buf[i], parts[0][i])
		}
	}
	// And every rank holds the same bits: gather their hashes.
	h := sha256.New()
	binary.Write(h, binary.LittleEndian, buf)
	sum := h.Sum(nil)
	mine := make([]float32, 8)
	for i := range mine {
		mine[i] = float32(binary.LittleEndian.Uint32(sum[4*i:]) >> 9) // exact in float32
	}
	all := make([]float32, 8*n)
	w.AllGather(mine, all)
	for k := range n {
		for i := range mine {
			if all[8*k+i] != mine[i] {
				t.Fatalf("rank %d: AllReduce's bits differ from rank %d's", r, k)
			}
		}
	}
	w.Barrier()
}

// BenchmarkAllReduce times the gathered, tree-ordered sum of the
// founding model's gradients (55,050 values, 221 KB in float32), and a
// raw MPI_Allgather of them: mpirun -np 2 distributed.test -test.bench .
func BenchmarkAllReduce(b *testing.B) {
	const n = 55050
	buf := make([]float64, n)
	b.Run("AllReduce-float64", func(b *testing.B) {
		for b.Loop() {
			world.AllReduce(buf)
		}
	})
	send := make([]float32, n)
	recv := make([]float32, n*world.Size())
	b.Run("AllGather-float32", func(b *testing.B) {
		for b.Loop() {
			world.AllGather(send, recv)
		}
	})
}
