package reduce

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Local is a Group of n goroutines of one process: the shards of a
// batch. Each goroutine uses its own Member.
type Local struct {
	members []member
	bufs    [][]float64 // what each member passed to the current AllReduce
	total   []float64   // the sum, copied out by members other than 0
	bar     Barrier
}

type member struct {
	l    *Local
	rank int
}

// NewLocal returns a group of n members.
func NewLocal(n int) *Local {
	l := &Local{members: make([]member, n), bufs: make([][]float64, n)}
	for i := range l.members {
		l.members[i] = member{l, i}
	}
	l.bar.Init(n)
	return l
}

// Member returns the Group that participant r (in [0, n)) uses.
func (l *Local) Member(r int) Group { return &l.members[r] }

func (m *member) Rank() int { return m.rank }
func (m *member) Size() int { return len(m.l.members) }

// AllReduce meets the other members twice: once all have published their
// buffers, member 0 adds them in Tree order; once it has, the others copy
// the total. The next call's first meeting is what keeps member 0 from
// overwriting the total before everyone has copied it.
func (m *member) AllReduce(buf []float64) {
	l := m.l
	if len(l.members) == 1 {
		return
	}
	l.bufs[m.rank] = buf
	l.bar.Wait()
	if m.rank == 0 {
		Tree(l.bufs)
		if cap(l.total) < len(buf) {
			l.total = make([]float64, len(buf))
		}
		l.total = l.total[:len(buf)]
		copy(l.total, buf)
	}
	l.bar.Wait()
	if m.rank != 0 {
		copy(buf, l.total)
	}
	l.bufs[m.rank] = nil
}

// Barrier makes n goroutines wait for one another, over and over. A waiter
// spins (yielding its thread) for a while before it parks, since the
// others usually arrive within microseconds and waking a parked goroutine
// costs more than that.
type Barrier struct {
	n     int32
	count atomic.Int32
	gen   atomic.Uint32
	mu    sync.Mutex
	cond  sync.Cond
}

// spins is how many times a waiter yields before it parks.
const spins = 200

// Init sets the number of goroutines that meet; call it before any Wait.
func (b *Barrier) Init(n int) {
	b.n = int32(n)
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
	for range spins {
		if b.gen.Load() != g {
			return
		}
		runtime.Gosched()
	}
	b.mu.Lock()
	for b.gen.Load() == g {
		b.cond.Wait()
	}
	b.mu.Unlock()
}
