package reduce

import "fmt"

// NewPeers returns n Ranks that live in one process, one for each of n
// goroutines: code written for the processes of a distributed job (a
// data-parallel Fit) runs under them in an ordinary test, with the sums
// and orders MPI ranks get from package distributed.
func NewPeers(n int) []Ranks {
	if n < 1 {
		panic(fmt.Sprintf("reduce: NewPeers: %d peers", n))
	}
	s := &peerSet{slots32: make([][]float32, n), slots64: make([][]float64, n)}
	s.bar.Init(n)
	rs := make([]Ranks, n)
	for r := range rs {
		rs[r] = &peer{s: s, rank: r}
	}
	return rs
}

type peerSet struct {
	bar     Barrier
	slots32 [][]float32
	slots64 [][]float64
}

type peer struct {
	s     *peerSet
	rank  int
	parts [][]float64
	all   []float64
}

func (p *peer) Rank() int { return p.rank }
func (p *peer) Size() int { return len(p.s.slots32) }

func (p *peer) Barrier() { p.s.bar.Wait() }

// AllReduce gathers every peer's buf and adds them in Tree order, as
// package distributed does, so that every peer holds the same bits.
func (p *peer) AllReduce(buf []float64) {
	n := p.Size()
	if cap(p.all) < n*len(buf) {
		p.all = make([]float64, n*len(buf))
		p.parts = make([][]float64, n)
	}
	all := p.all[:n*len(buf)]
	p.AllGather64(buf, all)
	for r := range n {
		p.parts[r] = all[r*len(buf) : (r+1)*len(buf)]
	}
	Tree(p.parts)
	copy(buf, p.parts[0])
}

func (p *peer) AllGather(send, recv []float32) {
	gather(p, p.s.slots32, send, recv)
}

func (p *peer) AllGather64(send, recv []float64) {
	gather(p, p.s.slots64, send, recv)
}

func gather[T float32 | float64](p *peer, slots [][]T, send, recv []T) {
	n := p.Size()
	if len(recv) != n*len(send) {
		panic(fmt.Sprintf("reduce: AllGather: recv holds %d elements, want %d peers × %d", len(recv), n, len(send)))
	}
	slots[p.rank] = send
	p.s.bar.Wait()
	for r, s := range slots {
		copy(recv[r*len(send):(r+1)*len(send)], s)
	}
	p.s.bar.Wait() // no peer reuses its send before all have copied it
	slots[p.rank] = nil
}

func (p *peer) Broadcast(buf []float32, root int) {
	broadcast(p, p.s.slots32, buf, root)
}

func (p *peer) Broadcast64(buf []float64, root int) {
	broadcast(p, p.s.slots64, buf, root)
}

func broadcast[T float32 | float64](p *peer, slots [][]T, buf []T, root int) {
	if p.rank == root {
		slots[root] = buf
	}
	p.s.bar.Wait()
	if p.rank != root {
		copy(buf, slots[root])
	}
	p.s.bar.Wait()
	if p.rank == root {
		slots[root] = nil
	}
}

// Abort panics: peers are goroutines of a test, not processes to end.
func (p *peer) Abort(code int) {
	panic(fmt.Sprintf("reduce: peer %d aborted the group with code %d", p.rank, code))
}
