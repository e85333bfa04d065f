package kernel

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The pool's tests make the events they are about happen through the
// pool's hooks (a helper held back, a helper stalled mid-item), assert
// that they happened, and put a deadline on every wait. Each runs on a
// pool of its own.

// TestSgemmWithoutHelpers holds every helper back and checks that parallel
// products still finish, correctly, on the caller alone: the caller waits
// for the items helpers took, never for helpers to show up. It runs more
// products than the helpers' queue holds, so offers are refused too.
func TestSgemmWithoutHelpers(t *testing.T) {
	setProcs(t, 4)
	forceParallel(t)
	pl := testPool(t)
	pl.stallBackoff = 0
	hold, held := make(chan struct{}), make(chan struct{})
	var holdOnce sync.Once
	var claims atomic.Int64
	pl.helperStart = func() {
		holdOnce.Do(func() { close(held) })
		<-hold
	}
	pl.helperClaimed = func() { claims.Add(1) }
	t.Cleanup(func() { close(hold) }) // runs before the pool's close
	fn := blockedOn(pl, goKernel8x32())
	rng := rand.New(rand.NewPCG(11, 12))
	finished := make(chan []string, 1)
	go func() {
		var problems []string
		for i := 0; i < 2*maxWorkers && len(problems) == 0; i++ {
			// Small (the Go kernel under -race is slow), one with B shared.
			for _, sz := range [][3]int{{16, 64, 40}, {136, 40, 20}, {40, 16, 9}} {
				tc := gemmCase{transA: i%2 == 1, m: sz[0], n: sz[1], k: sz[2], alpha: 1, beta: 0.5}
				problems = append(problems, makeGemm(tc, rng).problems("go-8x32", fn, tc)...)
			}
		}
		finished <- problems
	}()
	select {
	case problems := <-finished:
		report(t, problems)
	case <-time.After(2 * time.Minute):
		t.Fatal("products with every helper held back did not finish within 2 minutes: the caller waited for helpers")
	}
	// The event the test is about must have happened: a helper took a job
	// and was held, without claiming anything, and the queue filled up.
	select {
	case <-held:
	case <-time.After(time.Minute):
		t.Fatal("no helper took an offered job within a minute, so none was held back")
	}
	if n := claims.Load(); n != 0 {
		t.Errorf("held-back helpers claimed %d items, want 0", n)
	}
	if n := pl.parallel.Load(); n != 2*maxWorkers*3 {
		t.Errorf("%d products were shared out, want all %d", n, 2*maxWorkers*3)
	}
	if n := len(pl.work); n != maxWorkers {
		t.Errorf("the helpers' queue holds %d offers, want it full (%d)", n, maxWorkers)
	}
}

// goKernel8x32 is the Go micro-kernel shaped as the AVX-512 one: the
// parallel path on every platform (with noasm, Sgemm itself is serial).
func goKernel8x32() *gemmKernel {
	return &gemmKernel{name: "go-8x32", mr: 8, nr: 32, kc: 256, nc: 512, edge: true, fn: goKernel(8, 32)}
}

// setProcs sets GOMAXPROCS to n for the test.
func setProcs(t *testing.T, n int) {
	old := runtime.GOMAXPROCS(n)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
}

// forceParallel makes every product parallel, on the default pool stalls
// or not, for the test.
func forceParallel(t *testing.T) {
	oldW, oldB := parMinWork, defaultPool.stallBackoff
	parMinWork, defaultPool.stallBackoff = 1, 0
	defaultPool.serialUntil.Store(0)
	t.Cleanup(func() {
		parMinWork, defaultPool.stallBackoff = oldW, oldB
		defaultPool.serialUntil.Store(0)
	})
}

// testPool returns a pool of the test's own, so that what the test leaves
// in its queue or its helpers never reaches another test. Its helpers exit
// at the end of the test (once the test's own cleanups have let them go).
func testPool(t *testing.T) *pool {
	pl := newPool()
	t.Cleanup(pl.close)
	return pl
}

// TestSgemmStalledHelper stops the helper in the middle of an item, as
// the host does when it takes the helper's core, for longer than the
// stall rule needs: the product still comes out right, and the products
// after it run alone.
func TestSgemmStalledHelper(t *testing.T) {
	setProcs(t, 2)
	oldW := parMinWork
	parMinWork = 1
	t.Cleanup(func() { parMinWork = oldW })
	pl := testPool(t)
	pl.stallBackoff = time.Hour

	claimed, release := make(chan struct{}), make(chan struct{})
	noClaim := make(chan struct{})
	waiting := make(chan time.Duration, 1) // the caller's own time, once it waits
	var claimOnce sync.Once
	var ownStart time.Time // written and read by the caller only
	pl.helperClaimed = func() {
		claimOnce.Do(func() { close(claimed) })
		<-release
	}
	pl.callerStart = func() {
		select {
		case <-claimed:
		case <-time.After(time.Minute):
			close(noClaim) // the product goes on; the test fails
		}
		ownStart = time.Now()
	}
	pl.callerWaits = func() {
		select {
		case waiting <- time.Since(ownStart):
		default:
		}
	}
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(letGo) // runs before the pool's close

	fn := blockedOn(pl, goKernel8x32())
	rng := rand.New(rand.NewPCG(13, 14))
	tc := gemmCase{m: 32, n: 64, k: 16, alpha: 1, beta: 0.5}
	d := makeGemm(tc, rng)
	done := make(chan []string, 1)
	go func() { done <- d.problems("go-8x32", fn, tc) }()

	// The caller starts once the helper holds an item, does the others,
	// and waits for the helper's. Hold it past both bounds of the stall
	// rule, measured from the moment the caller started waiting: the
	// caller's own time as seen here is at least what it measured.
	select {
	case own := <-waiting:
		time.Sleep(stallWait + 2*own + time.Millisecond)
	case <-noClaim:
		t.Fatal("no helper claimed an item of the product within a minute")
	case <-time.After(2 * time.Minute):
		t.Fatal("the caller did not start waiting for the helper's item within 2 minutes")
	}
	letGo()
	select {
	case problems := <-done:
		report(t, problems)
	case <-time.After(time.Minute):
		t.Fatal("the product did not finish within a minute of letting the helper go")
	}
	if !pl.stalled() {
		t.Fatal("the helper held the caller up past the stall rule, and products still go parallel")
	}
	before := pl.parallel.Load()
	d.check(t, "go-8x32", fn, tc)
	if n := pl.parallel.Load() - before; n != 0 {
		t.Errorf("after a stall, %d products were shared out to helpers, want 0", n)
	}
}

// TestStallRule checks noteWait's rule on its own: a wait counts as a
// stall when it is longer than stallWait and than twice the caller's own
// share.
func TestStallRule(t *testing.T) {
	for _, tt := range []struct {
		wait, own time.Duration
		want      bool
	}{
		{stallWait / 2, 0, false},
		{2 * stallWait, stallWait, false},
		{2*stallWait + 1, stallWait, true},
		{time.Second, time.Millisecond, true},
	} {
		pl := newPool()
		pl.stallBackoff = time.Hour
		pl.noteWait(tt.wait, tt.own)
		if got := pl.stalled(); got != tt.want {
			t.Errorf("wait %v after own %v: stalled() = %v, want %v", tt.wait, tt.own, got, tt.want)
		}
	}
}
