package reduce

import (
	"fmt"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Local runs the n members of a Group inside one process, on a fixed
// number of worker goroutines: the shards of a batch on the cores. Each
// member is a coroutine (iter.Pull) that its worker resumes in turn, so a
// member that waits at AllReduce hands its core to the next member of the
// same worker instead of to the Go scheduler. A goroutine per member would
// do with Gosched: then members move between cores (a yielding goroutine
// goes to the scheduler's global queue), and their working sets follow
// them through the caches.
//
// Member k belongs to worker k mod workers, for every step, so that what a
// member's body writes stays in one core's cache from step to step. The
// sums do not depend on the number of workers.
//
// With as many workers as members, each worker runs its member's body
// itself, with no coroutine: a sync is then the workers' meeting alone,
// where a coroutine's two switches cost more than the meeting (with them,
// 1.3–2.5 µs a sync against 0.25 µs a meeting on BENCHMARKS.md's AMD
// host; BenchmarkLocalSync, BenchmarkBarrier2).
type Local struct {
	members []*member
	workers []*worker
	body    func(Group)

	bufs  [][]float64 // what each member passed to the current AllReduce
	total []float64   // its sum, copied out by the members

	meet  Barrier // the workers, between syncs
	start Barrier // the workers, at a step's start and end
	stop  bool    // read by the workers after start: return
	live  bool
	// direct: one member per worker, run on the worker's goroutine.
	direct bool
}

type worker struct {
	l       *Local
	members []*member
}

type member struct {
	l     *Local
	rank  int
	next  func() (struct{}, bool)
	stopf func()
	yield func(struct{}) bool
	done  bool // the body has returned for this step

	// In direct mode, what the member meets the others for at its
	// meeting number seq, by seq's parity: a member may post its next
	// kind while another still reads the last.
	seq  int
	kind [2]syncKind
	// stage holds the member's buffers of its last two sums, by parity,
	// which every member reads to add them; scratch is TreeInto's.
	stage   [2][]float64
	scratch []float64
	parts   [][]float64
}

// syncKind is what a member in direct mode meets the others for.
type syncKind uint8

const (
	syncBarrier syncKind = iota + 1
	syncSum
	syncEnd // the body returned
)

// stepSpins is how long, in microseconds, a worker polls for the next step
// before it parks: long enough to span the caller's serial work between
// two training steps.
const stepSpins = 500

// NewLocal returns a group of n members run by workers goroutines (the
// caller of Step counts as one; workers is clamped to [1, n]). Step calls
// body once for each member, in the member's coroutine (or, with a worker
// per member, on the worker's goroutine), with the member's
// Group. Close stops the workers.
func NewLocal(n, workers int, body func(Group)) *Local {
	if n < 1 {
		panic(fmt.Sprintf("reduce: NewLocal: %d members", n))
	}
	workers = max(1, min(workers, n))
	l := &Local{body: body, bufs: make([][]float64, n)}
	l.workers = make([]*worker, workers)
	for w := range l.workers {
		l.workers[w] = &worker{l: l}
	}
	l.direct = workers == n && n > 1
	for k := range n {
		m := &member{l: l, rank: k}
		if !l.direct {
			m.next, m.stopf = iter.Pull(m.run)
			m.next() // run to the loop's first yield
		}
		l.members = append(l.members, m)
		w := l.workers[k%workers]
		w.members = append(w.members, m)
	}
	l.meet.InitSpins(workers, DefaultSpins)
	l.start.InitSpins(workers, stepSpins)
	for _, w := range l.workers[1:] {
		go w.loop()
	}
	l.live = true
	return l
}

// Member returns the Group of member r, for tests that call a member's
// methods outside Step. In Step, body receives it.
func (l *Local) Member(r int) Group { return l.members[r] }

// Workers returns the number of worker goroutines, the caller included.
func (l *Local) Workers() int { return len(l.workers) }

// Step runs body for every member and returns when all have returned.
func (l *Local) Step() {
	if !l.live {
		panic("reduce: Local.Step after Close")
	}
	if len(l.workers) > 1 {
		l.start.Wait()
	}
	l.workers[0].step()
	if len(l.workers) > 1 {
		l.start.Wait()
	}
}

// Close stops the workers and the members' coroutines. The Local cannot
// step again.
func (l *Local) Close() {
	if !l.live {
		return
	}
	l.live = false
	if len(l.workers) > 1 {
		l.stop = true
		l.start.Wait()
	}
	for _, m := range l.members {
		if m.stopf != nil {
			m.stopf()
		}
	}
}

func (w *worker) loop() {
	l := w.l
	for {
		l.start.Wait()
		if l.stop {
			return
		}
		w.step()
		l.start.Wait()
	}
}

// step resumes the worker's members until their bodies return. Between
// two resumptions every member of every worker stands at the same sync
// (AllReduce or Barrier): the workers meet, worker 0 adds the buffers,
// and they meet again before resuming.
func (w *worker) step() {
	l := w.l
	if l.direct {
		m := w.members[0]
		l.body(m)
		m.meet(syncEnd, nil)
		return
	}
	for _, m := range w.members {
		m.done = false
		m.next()
	}
	for {
		done := 0
		for _, m := range w.members {
			if m.done {
				done++
			}
		}
		if done == len(w.members) {
			return
		}
		if done != 0 {
			panic("reduce: members of a Local made different numbers of AllReduce and Barrier calls")
		}
		if len(l.workers) > 1 {
			l.meet.Wait()
		}
		if w == l.workers[0] {
			l.sum()
		}
		if len(l.workers) > 1 {
			l.meet.Wait()
		}
		for _, m := range w.members {
			m.next()
		}
	}
}

// sum adds the posted buffers in Tree order into total (nothing for a
// Barrier, where all are nil).
func (l *Local) sum() {
	if l.bufs[0] == nil {
		return
	}
	Tree(l.bufs)
	l.total = append(l.total[:0], l.bufs[0]...)
}

func (m *member) run(yield func(struct{}) bool) {
	m.yield = yield
	for yield(struct{}{}) {
		m.l.body(m)
		m.done = true
	}
}

func (m *member) Rank() int { return m.rank }
func (m *member) Size() int { return len(m.l.members) }

// AllReduce posts buf and suspends the member; its worker resumes it once
// every member has posted and worker 0 has added them (with a worker per
// member, see meet).
func (m *member) AllReduce(buf []float64) {
	l := m.l
	if len(l.members) == 1 {
		return
	}
	if buf == nil {
		buf = []float64{}
	}
	if l.direct {
		m.meet(syncSum, buf)
		return
	}
	l.bufs[m.rank] = buf
	m.yield(struct{}{})
	copy(buf, l.total)
	l.bufs[m.rank] = nil
}

// meet is a sync in direct mode: the members meet and check that all
// came for the same kind of sync. For a sum, each posts a copy of its
// buffer first and afterwards adds all the copies itself, in Tree order:
// one meeting instead of a second one for a sum that member 0 adds. A
// member may post its next copy while another still reads this one, so
// the copies alternate between two buffers.
func (m *member) meet(k syncKind, buf []float64) {
	l := m.l
	p := m.seq & 1
	m.seq++
	m.kind[p] = k
	if k == syncSum {
		m.stage[p] = append(m.stage[p][:0], buf...)
	}
	l.meet.Wait()
	for _, o := range l.members {
		if o.kind[p] != k {
			panic("reduce: members of a Local made different numbers of AllReduce and Barrier calls")
		}
	}
	if k != syncSum {
		return
	}
	m.parts = m.parts[:0]
	for _, o := range l.members {
		if len(o.stage[p]) != len(buf) {
			panic(fmt.Sprintf("reduce: AllReduce of %d elements by member %d, %d by member %d", len(buf), m.rank, len(o.stage[p]), o.rank))
		}
		m.parts = append(m.parts, o.stage[p])
	}
	if want := (len(l.members) + 1) / 2 * 64; len(m.scratch) < want {
		m.scratch = make([]float64, want)
	}
	TreeInto(buf, m.parts, m.scratch)
}

// Barrier suspends the member until every member has called it.
func (m *member) Barrier() {
	if len(m.l.members) == 1 {
		return
	}
	if m.l.direct {
		m.meet(syncBarrier, nil)
		return
	}
	m.l.bufs[m.rank] = nil
	m.yield(struct{}{})
}

// Barrier makes n goroutines wait for one another, over and over. A waiter
// polls for a while before it parks, since the others usually arrive
// within microseconds and waking a parked goroutine's thread costs more
// than that (tens of microseconds on a virtual machine).
//
// How it polls depends on whether every waiter can have a processor of its
// own (GOMAXPROCS >= n at Init). If so, it polls without yielding, for up
// to the spin time: a goroutine that yields goes to the scheduler's global
// queue and may come back on another core, leaving its working set in the
// cache of the first. If not, it yields at each poll so that the others
// can run.
type Barrier struct {
	n     int32
	spins int
	hot   bool
	count atomic.Int32
	gen   atomic.Uint32
	mu    sync.Mutex
	cond  sync.Cond
}

// DefaultSpins is how long a waiter polls before it parks, if Init set no
// other number: in microseconds when the waiters have processors of their
// own, in yields (a fraction of a microsecond each) when they share.
const DefaultSpins = 200

// Init sets the number of goroutines that meet; call it before any Wait.
func (b *Barrier) Init(n int) { b.InitSpins(n, DefaultSpins) }

// InitSpins is Init with how long a waiter polls before it parks (see
// DefaultSpins).
func (b *Barrier) InitSpins(n, spins int) {
	b.n = int32(n)
	b.spins = spins
	b.hot = runtime.GOMAXPROCS(0) >= n
	b.cond.L = &b.mu
}

// Wait returns once all n goroutines have called it.
func (b *Barrier) Wait() {
	g := b.gen.Load()
	if b.count.Add(1) == b.n {
		b.count.Store(0)
		b.mu.Lock()
		b.gen.Add(1)
		b.cond.Broadcast()
		b.mu.Unlock()
		return
	}
	if b.hot {
		// Read the clock rarely: on a virtual machine it costs as
		// much as a hundred polls.
		var deadline time.Time
		for i := 0; ; i++ {
			for range 256 {
				if b.gen.Load() != g {
					return
				}
			}
			if i%16 == 15 {
				if deadline.IsZero() {
					deadline = time.Now().Add(time.Duration(b.spins) * time.Microsecond)
				} else if time.Now().After(deadline) {
					break
				}
			}
		}
	} else {
		for range b.spins {
			if b.gen.Load() != g {
				return
			}
			runtime.Gosched()
		}
	}
	b.mu.Lock()
	for b.gen.Load() == g {
		b.cond.Wait()
	}
	b.mu.Unlock()
}
