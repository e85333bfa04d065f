package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// maxWorkers is the most goroutines that share one product, and the
// number of jobs and buffers a pool keeps.
const maxWorkers = 64

// pool is a set of helper goroutines that share parallel products with
// the goroutine that calls Sgemm (the caller), with the free lists that
// keep the steady state from allocating. Helpers are started on demand and
// stay: a helper polls for helperSpin after a job before it parks, so that
// products that follow each other closely find it awake.
//
// A product is offered to helpers, one queue entry per helper wanted; the
// caller never waits for a helper to turn up, only for the items helpers
// have claimed (see sgemmBlocked). When a claimed item keeps the caller
// waiting long (the host took the helper's core), the pool runs products
// alone for stallBackoff.
//
// Sgemm uses defaultPool; tests make their own, with hooks, so that what
// one test leaves in a queue never reaches the next.
type pool struct {
	work    chan *gemmJob // offers to helpers
	jobFree chan *gemmJob // made on first use, see getJob
	bufFree chan *gemmBuf
	quit    chan struct{} // closed by close: helpers exit

	mu       sync.Mutex
	helpers  int // started so far
	jobsOnce sync.Once

	// stallBackoff is how long products run alone after a stall; tests
	// that force the parallel path set 0. serialUntil is the end of the
	// current backoff, in ns since clockStart.
	stallBackoff time.Duration
	serialUntil  atomic.Int64

	parallel atomic.Int64 // products shared out to helpers, for tests

	// Test hooks, set before the pool's first use, where a test stops a
	// goroutine as the host does when it takes its core: helperStart runs
	// in a helper before it starts a job, helperClaimed each time it has
	// claimed an item, callerStart in the caller of a parallel product
	// before it starts on the items, and callerWaits when the caller,
	// its own items done, starts waiting for helpers.
	helperStart, helperClaimed, callerStart, callerWaits func()
}

// defaultPool is the pool Sgemm uses.
var defaultPool = newPool()

func newPool() *pool {
	return &pool{
		work:         make(chan *gemmJob, maxWorkers),
		jobFree:      make(chan *gemmJob, maxWorkers),
		bufFree:      make(chan *gemmBuf, maxWorkers),
		quit:         make(chan struct{}),
		stallBackoff: 50 * time.Millisecond,
	}
}

// close makes p's helpers exit once they are idle. No product may use p
// afterwards; only tests close pools.
func (p *pool) close() { close(p.quit) }

// spinWait is how long the caller polls (yielding its P and its thread
// each time) for its helpers to finish before it parks: parking and being
// woken costs more than a helper's last item usually takes.
var spinWait = 50 * time.Microsecond

// helperSpin is how long a helper polls for its next job before it parks.
// It runs on a core the caller is not using, so it takes nothing from the
// caller (when the host leaves one core for both, osYield hands it over);
// a product that comes within it starts on two cores at once instead of
// waiting for a parked helper to wake. Like OpenBLAS's threads, it keeps a
// second core busy for that long after a product.
var helperSpin = 200 * time.Microsecond

// stallWait: when the caller of a parallel product waited for a helper's
// item for longer than this and than twice its own share took, the
// helper's core was taken from it (a host may do that for milliseconds at
// a time), and products run alone for stallBackoff: a wait of a few
// milliseconds costs a small training step more than going parallel ever
// gains it.
var stallWait = 200 * time.Microsecond

var clockStart = time.Now()

// noteWait records that the caller waited for helpers for wait after
// working for own.
func (p *pool) noteWait(wait, own time.Duration) {
	if wait > stallWait && wait > 2*own {
		p.serialUntil.Store(int64(time.Since(clockStart) + p.stallBackoff))
	}
}

// stalled reports whether products should run alone for now.
func (p *pool) stalled() bool {
	return p.serialUntil.Load() > int64(time.Since(clockStart))
}

// spinUntil polls ready for up to spinWait and reports whether it became
// true; spinFor polls for up to d. Both poll at least 16 times.
func spinUntil(ready func() bool) bool { return spinFor(ready, spinWait) }

func spinFor(ready func() bool, d time.Duration) bool {
	var start time.Time
	for i := 0; ; i++ {
		if ready() {
			return true
		}
		switch {
		case i == 0:
			start = time.Now()
		case i%16 == 0 && time.Since(start) > d:
			return false
		}
		runtime.Gosched()
		osYield()
	}
}

// Free lists are channels rather than sync.Pools because a GC empties a
// Pool and the steady state must not allocate.

func (p *pool) getBuf() *gemmBuf {
	select {
	case b := <-p.bufFree:
		return b
	default:
		return new(gemmBuf)
	}
}

func (p *pool) putBuf(b *gemmBuf) {
	select {
	case p.bufFree <- b:
	default:
	}
}

// getJob returns a free job, or nil when all maxWorkers are held, which
// happens only when helpers that have not turned up hold them. All are
// made on the first call, so a late helper never makes a step allocate.
func (p *pool) getJob() *gemmJob {
	p.jobsOnce.Do(func() {
		for range maxWorkers {
			p.jobFree <- &gemmJob{pool: p, fin: make(chan struct{}, 1)}
		}
	})
	select {
	case j := <-p.jobFree:
		return j
	default:
		return nil
	}
}

func (p *pool) putJob(j *gemmJob) {
	select {
	case p.jobFree <- j:
	default:
	}
}

// offer queues j for up to n helpers and returns how many it queued: when
// the queue is full, helpers are that far behind and the caller does
// without them.
func (p *pool) offer(j *gemmJob, n int) int {
	for i := 0; i < n; i++ {
		select {
		case p.work <- j:
		default:
			return i
		}
	}
	return n
}

// startHelpers makes sure n helpers exist. Each owns its buffers.
func (p *pool) startHelpers(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ; p.helpers < n; p.helpers++ {
		go p.helper()
	}
}

// helper runs the jobs offered to it until p is closed.
func (p *pool) helper() {
	buf := new(gemmBuf)
	var j *gemmJob
	poll := func() bool {
		select {
		case j = <-p.work:
			return true
		default:
			return false
		}
	}
	for {
		if !spinFor(poll, helperSpin) {
			select {
			case j = <-p.work:
			case <-p.quit:
				return
			}
		}
		if h := p.helperStart; h != nil {
			h()
		}
		last := j.plan.run(buf, j, true)
		j.release() // before fin: the caller holds j until then
		if last {
			j.fin <- struct{}{}
		}
	}
}
