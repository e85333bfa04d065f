package reduce

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// treeRef is Tree written as recursion over halves of a power-of-two
// span, the definition the package doc gives.
func treeRef(parts [][]float32, j, lo, span int) float32 {
	if span == 1 {
		if lo < len(parts) {
			return parts[lo][j]
		}
		return 0
	}
	h := span / 2
	if lo+h >= len(parts) {
		return treeRef(parts, j, lo, h)
	}
	return treeRef(parts, j, lo, h) + treeRef(parts, j, lo+h, h)
}

func randParts(r *rand.Rand, n, l int) [][]float32 {
	parts := make([][]float32, n)
	for i := range parts {
		parts[i] = make([]float32, l)
		for j := range parts[i] {
			// Spread magnitudes so that a different order rounds differently.
			parts[i][j] = float32(r.NormFloat64() * float64(int(1)<<r.IntN(20)))
		}
	}
	return parts
}

func clone(parts [][]float32) [][]float32 {
	c := make([][]float32, len(parts))
	for i, p := range parts {
		c[i] = append([]float32(nil), p...)
	}
	return c
}

func TestTreeOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 13; n++ {
		parts := randParts(r, n, 37)
		want := make([]float32, 37)
		span := 1
		for span < n {
			span *= 2
		}
		for j := range want {
			want[j] = treeRef(parts, j, 0, span)
		}
		got := clone(parts)
		Tree(got)
		for j := range want {
			if got[0][j] != want[j] {
				t.Fatalf("n=%d element %d: Tree gave %v, the pairwise tree %v", n, j, got[0][j], want[j])
			}
		}
	}
}

// TestTreeRangeIsTree: workers summing disjoint ranges get Tree's bits,
// and a block of 2^k parts summed first and then combined is the same
// tree (what lets a process send one partial sum for its shards).
func TestTreeRangeIsTree(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	parts := randParts(r, 8, 1001)
	whole := clone(parts)
	Tree(whole)
	ranged := clone(parts)
	for _, cut := range [][2]int{{0, 5}, {5, 333}, {333, 1000}, {1000, 1001}} {
		TreeRange(ranged, cut[0], cut[1])
	}
	blocks := clone(parts)
	Tree(blocks[0:4])
	Tree(blocks[4:8])
	Tree([][]float32{blocks[0], blocks[4]})
	for j := range whole[0] {
		if ranged[0][j] != whole[0][j] || blocks[0][j] != whole[0][j] {
			t.Fatalf("element %d: Tree %v, TreeRange %v, blocks of four %v", j, whole[0][j], ranged[0][j], blocks[0][j])
		}
	}
}

func TestTreeFloat64(t *testing.T) {
	parts := [][]float64{{1e16, 1}, {1, 2}, {-1e16, 3}}
	Tree(parts)
	// ((1e16 + 1) + -1e16): 1e16+1 rounds to 1e16, so 0; the other
	// order would give 1.
	if parts[0][0] != 0 || parts[0][1] != 6 {
		t.Fatalf("Tree = %v, want [0 6]", parts[0])
	}
}

func TestLocalAllReduce(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8} {
		for _, workers := range []int{1, 2, 3, 16} {
			r := rand.New(rand.NewPCG(uint64(n), 9))
			const rounds = 20
			in := make([][][]float64, rounds)
			for k := range in {
				in[k] = make([][]float64, n)
				for i := range in[k] {
					in[k][i] = []float64{r.NormFloat64() * 1e8, r.NormFloat64(), float64(k)}
				}
			}
			got := make([][][]float64, rounds)
			for k := range got {
				got[k] = make([][]float64, n)
			}
			step := 0
			var order []int // members' ranks, in the order they passed a Barrier
			var mu sync.Mutex
			l := NewLocal(n, workers, func(g Group) {
				i := g.Rank()
				if g.Size() != n {
					t.Errorf("member %d: Size %d, want %d", i, g.Size(), n)
				}
				buf := append([]float64(nil), in[step][i]...)
				g.AllReduce(buf)
				got[step][i] = buf
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				g.Barrier()
				mu.Lock()
				if len(order) < n*(step+1) {
					t.Errorf("step %d member %d passed the barrier with %d of %d members arrived", step, i, len(order)-n*step, n)
				}
				mu.Unlock()
			})
			if l.Workers() != min(workers, n) {
				t.Errorf("n=%d workers=%d: Workers() = %d", n, workers, l.Workers())
			}
			for step = 0; step < rounds; step++ {
				stepWithin(t, l)
			}
			l.Close()
			for k := range rounds {
				want := make([][]float64, n)
				for i := range want {
					want[i] = append([]float64(nil), in[k][i]...)
				}
				Tree(want)
				for i := range n {
					for j := range want[0] {
						if got[k][i][j] != want[0][j] {
							t.Fatalf("n=%d workers=%d round %d member %d element %d: %v, want %v", n, workers, k, i, j, got[k][i][j], want[0][j])
						}
					}
				}
			}
		}
	}
}

// TestLocalMismatch: members that disagree on the number of syncs are a
// clear panic, not a hang.
func TestLocalMismatch(t *testing.T) {
	l := NewLocal(2, 1, func(g Group) {
		if g.Rank() == 0 {
			g.Barrier()
		}
	})
	defer func() {
		if recover() == nil {
			t.Fatal("Step did not panic")
		}
	}()
	stepWithin(t, l)
}

func TestTreeInto(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 1; n <= 9; n++ {
		parts := randParts(r, n, 1000)
		want := clone(parts)
		Tree(want)
		for _, sc := range []int{(n + 1) / 2, 3 * n, 4096} {
			keep := clone(parts)
			dst := make([]float32, 1000)
			TreeInto(dst, keep, make([]float32, sc))
			for j := range dst {
				if dst[j] != want[0][j] {
					t.Fatalf("n=%d scratch %d element %d: TreeInto %v, Tree %v", n, sc, j, dst[j], want[0][j])
				}
			}
			for i := range parts {
				for j := range parts[i] {
					if keep[i][j] != parts[i][j] {
						t.Fatalf("n=%d: TreeInto wrote part %d", n, i)
					}
				}
			}
		}
	}
	d64 := make([]float64, 2)
	TreeInto(d64, [][]float64{{1e16, 1}, {1, 2}, {-1e16, 3}}, make([]float64, 4))
	if d64[0] != 0 || d64[1] != 6 {
		t.Fatalf("TreeInto float64 = %v, want [0 6]", d64)
	}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// TestBarrierPhases: no goroutine passes a barrier before every other has
// reached it, round after round.
func TestBarrierPhases(t *testing.T) {
	const n, rounds = 4, 200
	var b Barrier
	b.Init(n)
	var mu sync.Mutex
	arrived := make([]int, rounds)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range rounds {
				mu.Lock()
				arrived[k]++
				mu.Unlock()
				b.Wait()
				mu.Lock()
				a := arrived[k]
				mu.Unlock()
				if a != n {
					t.Errorf("round %d: passed the barrier with %d of %d arrived", k, a, n)
					return
				}
			}
		}()
	}
	if !waitTimeout(&wg, time.Minute) {
		t.Fatal("the goroutines did not pass 200 barriers within a minute")
	}
}

func BenchmarkBarrier2(b *testing.B) {
	var bar Barrier
	bar.Init(2)
	done := make(chan struct{})
	go func() {
		for range b.N {
			bar.Wait()
		}
		close(done)
	}()
	for range b.N {
		bar.Wait()
	}
	<-done
}

// TestPeers: peers gather in rank order, broadcast from any root, and
// AllReduce in Tree order with the same bits on every peer.
func TestPeers(t *testing.T) {
	const n = 3
	ps := NewPeers(n)
	var wg sync.WaitGroup
	errs := make(chan string, 10*n)
	for r := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := ps[r]
			send := []float32{float32(r), float32(10 * r)}
			recv := make([]float32, 2*n)
			p.AllGather(send, recv)
			for k := range n {
				if recv[2*k] != float32(k) || recv[2*k+1] != float32(10*k) {
					errs <- fmt.Sprintf("peer %d: AllGather = %v", r, recv)
				}
			}
			b := []float64{float64(r + 1)}
			p.Broadcast64(b, 2)
			if b[0] != 3 {
				errs <- fmt.Sprintf("peer %d: Broadcast64 from 2 = %v", r, b)
			}
			v := []float64{[]float64{1e16, 1, -1e16}[r]}
			p.AllReduce(v)
			if v[0] != 0 { // (1e16 + 1) + -1e16 in Tree order
				errs <- fmt.Sprintf("peer %d: AllReduce = %v, want 0", r, v)
			}
			p.Barrier()
		}()
	}
	if !waitTimeout(&wg, time.Minute) {
		t.Fatal("the peers did not finish within a minute")
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestTreeSum(t *testing.T) {
	if got := TreeSum([]float64{1e16, 1, -1e16, 1}); got != 0 { // (1e16+1) + (-1e16+1) rounds each pair; left to right would give 1
		t.Fatalf("TreeSum = %v, want 0", got)
	}
	if TreeSum(nil) != 0 || TreeSum([]float64{2}) != 2 {
		t.Fatal("TreeSum of none or one")
	}
}

// stepWithin runs l.Step, failing the test if it has not returned within a
// minute (a member that never reaches a sync would hang it), and passes on
// its panic.
func stepWithin(t *testing.T, l *Local) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		l.Step()
	}()
	select {
	case p := <-done:
		if p != nil {
			panic(p)
		}
	case <-time.After(time.Minute):
		t.Fatal("Local.Step did not return within a minute")
	}
}
