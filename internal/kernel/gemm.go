package kernel

import (
	"runtime"
	"sync/atomic"
	"time"
)

// The blocked GEMM driver: it splits C into items (blocks of whole
// micro-kernel tiles), shares them out through a pool, and computes each
// with a micro-kernel (microkernel.go) on packed or in-place panels of A
// and B (pack.go).

// gemmPlan is one Sgemm call, split into items: blocks of C of mb×nb
// (multiples of mr×nr, so the tile grid and hence every element's
// arithmetic is the same however the items are shared out).
type gemmPlan struct {
	kern           *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int

	kc      int  // k block; depends on k only
	directB bool // read !transB B in place instead of packing it
	packA   bool // pack full A tiles (edge tiles are always packed)
	mb, nb  int
	itemsN  int // items across n
	items   int

	// shared, when not nil, holds all of op(B) packed once, by all the
	// goroutines together before any item starts (prepack), instead of
	// every item packing its own copy of the B blocks it needs. units is
	// the number of (column block, k block) pieces to pack.
	shared []float32
	units  int
}

// Tuning thresholds (variables so benchmarks can try others).
var (
	// parMinWork is the m*n*k from which Sgemm shares a product with
	// helpers: below it, waking a helper and waiting for its items costs
	// more than the helper saves. Back to back, 32×784×64 runs 1.6× faster
	// on two cores; inside a training step, between a hundred microseconds
	// of other work, the helper has gone cold, and on 6 December's host a
	// founding-model step at batch 32 and 128 ran slower on two threads
	// than on one with 2^20. 2^23 keeps those products (up to 6.4M) on
	// their caller and a convolution's (from 9×43264×32 ≈ 12.5M) shared;
	// BENCHMARKS.md has the measurements.
	parMinWork = 1 << 23
	// directBMaxM: with m up to this, B (not transposed) is read in place;
	// packing it would cost more than its reuse across m/mr tiles repays.
	directBMaxM = 128
	// packAMinN: from this many columns per block, full A tiles are packed.
	packAMinN = 128
	// sharedBMax: the most floats of packed B shared by the workers.
	sharedBMax = 1 << 23
	// smallMMax: up to this many rows of C, the one-row kernel is used;
	// an 8-row tile would spend most of its FMAs on absent rows.
	smallMMax = 4
	// tallMMax: up to this many rows of C (not a multiple of the big
	// kernel's mr), the tall kernel is used where there is one: 9 rows
	// are one tile instead of 8 and a packed edge row.
	tallMMax = 16
)

// serialHolds counts the SerialBegin calls not yet ended.
var serialHolds atomic.Int32

// SerialBegin makes every product run on its caller's goroutine alone,
// until the matching SerialEnd: for callers that already keep every core
// busy with products of their own (a model's shards), where helpers would
// only take cores from them. The bits are the same either way.
func SerialBegin() { serialHolds.Add(1) }

// SerialEnd ends one SerialBegin.
func SerialEnd() { serialHolds.Add(-1) }

// sgemmBlocked computes the product with kern, shared with pl's helpers
// when it is large enough; the arguments are Sgemm's, checked, with m, n,
// k > 0 and alpha != 0.
func sgemmBlocked(pl *pool, kern *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nk := (k + kern.kc - 1) / kern.kc
	p := gemmPlan{
		kern: kern, transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc,
		kc:      (k + nk - 1) / nk,
		directB: !transB && m <= directBMaxM,
		packA:   min(n, kern.nc) >= packAMinN,
	}
	nw := 1
	if m*n*k >= parMinWork && !pl.stalled() && serialHolds.Load() == 0 {
		nw = min(runtime.GOMAXPROCS(0), maxWorkers)
	}
	tm := (m + kern.mr - 1) / kern.mr
	tn := (n + kern.nr - 1) / kern.nr
	pm, pn := 1, 1
	if nw > 1 {
		// Aim at two items per worker so a slow worker can be helped.
		for target := 2 * nw; pm*pn < target; {
			if tm/pm >= tn/pn && pm < tm {
				pm++
			} else if pn < tn {
				pn++
			} else if pm < tm {
				pm++
			} else {
				break
			}
		}
	}
	p.mb = (tm + pm - 1) / pm * kern.mr
	p.nb = (tn + pn - 1) / pn * kern.nr
	p.itemsN = (n + p.nb - 1) / p.nb
	p.items = (m + p.mb - 1) / p.mb * p.itemsN
	nw = min(nw, p.items)
	var j *gemmJob
	if nw > 1 {
		j = pl.getJob() // nil when helpers that never turned up hold every job
	}
	if j == nil {
		buf := pl.getBuf()
		p.run(buf, nil, false)
		pl.putBuf(buf)
		return
	}
	pl.startHelpers(nw - 1)
	pl.parallel.Add(1)
	buf := pl.getBuf()
	// Several items along m would each pack the same B blocks: pack them
	// once, together. (Items along n alone pack disjoint columns.) The
	// caller's buffer holds them: it is not put back before every item is
	// done, and a helper that comes later reads none of it.
	if size := k * (tn * kern.nr); !p.directB && pm > 1 && size <= sharedBMax {
		if cap(buf.shared) < size {
			buf.shared = make([]float32, size)
		}
		p.shared = buf.shared[:size]
		p.units = (n + kern.nc - 1) / kern.nc * nk
	}
	j.plan = p
	j.next.Store(0)
	j.done.Store(0)
	j.nextUnit.Store(0)
	j.packed.Store(0)
	// One hold for the caller and one for each offer a helper will take.
	j.refs.Store(int64(nw))
	if sent := pl.offer(j, nw-1); sent < nw-1 {
		j.refs.Add(int64(sent - (nw - 1)))
	}
	// Wait only for the items others claimed, not for helpers to turn up:
	// a helper that was parked, or whose core the host has taken, finds
	// nothing left when it comes. Poll a while before parking: waking this
	// goroutine costs more than a small product takes.
	if h := pl.callerStart; h != nil {
		h()
	}
	start := time.Now()
	if !j.plan.run(buf, j, false) {
		own := time.Since(start)
		if h := pl.callerWaits; h != nil {
			h()
		}
		got := func() bool {
			select {
			case <-j.fin:
				return true
			default:
				return false
			}
		}
		if !spinUntil(got) {
			<-j.fin
		}
		pl.noteWait(time.Since(start)-own, own)
	}
	pl.putBuf(buf)
	// Helpers that ran items let go of j within moments; give them those,
	// so that j goes straight back on the free list. A helper that has not
	// turned up keeps j and puts it back itself.
	for i := 0; i < 64 && j.refs.Load() > 1; i++ {
		runtime.Gosched()
	}
	j.release()
}

// run computes items until none are left, sharing them out through j;
// j == nil means all of them, alone. With j, it reports whether this
// goroutine finished the last item; if a helper did, it has sent on j.fin.
func (p *gemmPlan) run(buf *gemmBuf, j *gemmJob, helper bool) bool {
	buf.ensure(p.kern)
	if j == nil {
		for it := 0; it < p.items; it++ {
			p.item(buf, it)
		}
		return true
	}
	if p.shared != nil {
		// Pack B pieces until none are left, then wait for the pieces the
		// others took (a piece is short, and they are running).
		for {
			u := int(j.nextUnit.Add(1) - 1)
			if u >= p.units {
				break
			}
			p.prepack(u)
			j.packed.Add(1)
		}
		if j.packed.Load() < int64(p.units) {
			start := time.Now()
			for j.packed.Load() < int64(p.units) {
				runtime.Gosched()
			}
			if !helper {
				j.pool.noteWait(time.Since(start), 0)
			}
		}
	}
	for {
		it := int(j.next.Add(1) - 1)
		if it >= p.items {
			return false
		}
		if h := j.pool.helperClaimed; helper && h != nil {
			h()
		}
		p.item(buf, it)
		if j.done.Add(1) == int64(p.items) {
			return true
		}
	}
}

// prepack packs piece u of op(B) into p.shared: column block u/nk, k
// block u%nk, laid out as packB would for that block.
func (p *gemmPlan) prepack(u int) {
	nk := (p.k + p.kc - 1) / p.kc
	jc := u / nk * p.kern.nc
	pc := u % nk * p.kc
	nc := min(p.kern.nc, p.n-jc)
	packB(p.kern, p.shared[p.sharedOff(jc, pc):], p.b, p.ldb, p.transB, pc, min(p.kc, p.k-pc), jc, nc)
}

// sharedOff is where in p.shared the packed panel of columns j..j+nr-1
// (j a multiple of nr) for the k block at pc starts. Column block jb
// takes k × (its width rounded up to nr) floats, k block by k block.
func (p *gemmPlan) sharedOff(j, pc int) int {
	nr := p.kern.nr
	jb := j / p.kern.nc * p.kern.nc
	w := (min(p.kern.nc, p.n-jb) + nr - 1) / nr * nr
	return jb*p.k + pc*w + (j-jb)*min(p.kc, p.k-pc)
}

func (p *gemmPlan) item(buf *gemmBuf, it int) {
	i0 := it / p.itemsN * p.mb
	j0 := it % p.itemsN * p.nb
	p.block(buf, i0, min(i0+p.mb, p.m), j0, min(j0+p.nb, p.n))
}

// block computes C[i0:i1, j0:j1] completely: all k blocks, in order.
func (p *gemmPlan) block(buf *gemmBuf, i0, i1, j0, j1 int) {
	kern := p.kern
	mr, nr := kern.mr, kern.nr
	for jc := j0; jc < j1; jc += kern.nc {
		nc := min(kern.nc, j1-jc)
		for pc := 0; pc < p.k; pc += p.kc {
			kc := min(p.kc, p.k-pc)
			beta, flags := p.beta, uint64(0)
			if pc > 0 {
				beta = 1
			} else if beta == 0 {
				flags = kfBeta0
			}
			if p.shared != nil {
				// B was packed before the items started.
			} else if !p.directB {
				packB(kern, buf.b, p.b, p.ldb, p.transB, pc, kc, jc, nc)
			} else if nc%nr != 0 && !kern.edge {
				// The ragged last panel is packed, zero padded.
				jr := nc - nc%nr
				packB(kern, buf.b, p.b, p.ldb, false, pc, kc, jc+jr, nc-jr)
			}
			for ir := i0; ir < i1; ir += mr {
				mrv := min(mr, i1-ir)
				var ap *float32
				var rsa, ksa uintptr
				if (mrv < mr && !kern.exactRows) || p.packA {
					packA(kern, buf.a, p.a, p.lda, p.transA, ir, mrv, pc, kc)
					ap, rsa, ksa = &buf.a[0], 4, uintptr(mr)*4
				} else if p.transA {
					ap, rsa, ksa = &p.a[pc*p.lda+ir], 4, uintptr(p.lda)*4
				} else {
					ap, rsa, ksa = &p.a[ir*p.lda+pc], uintptr(p.lda)*4, 4
				}
				for jr := 0; jr < nc; jr += nr {
					nrv := min(nr, nc-jr)
					var bp *float32
					var ksb uintptr
					switch {
					case p.shared != nil:
						bp, ksb = &p.shared[p.sharedOff(jc+jr, pc)], uintptr(nr)*4
					case !p.directB:
						bp, ksb = &buf.b[jr*kc], uintptr(nr)*4
					case nrv < nr && !kern.edge:
						bp, ksb = &buf.b[0], uintptr(nr)*4
					default:
						bp, ksb = &p.b[pc*p.ldb+jc+jr], uintptr(p.ldb)*4
					}
					ci := ir*p.ldc + jc + jr
					if (mrv == mr && nrv == nr) || kern.edge {
						kern.fn(kc, ap, rsa, ksa, bp, ksb, &p.c[ci], uintptr(p.ldc)*4, p.alpha, beta, flags|tileFlags(mrv, nrv))
						continue
					}
					// Edge tile: compute into buf.t, then merge the valid part.
					kern.fn(kc, ap, rsa, ksa, bp, ksb, &buf.t[0], uintptr(nr)*4, p.alpha, 0, kfBeta0|tileFlags(mr, nr))
					for r := 0; r < mrv; r++ {
						crow := p.c[ci+r*p.ldc : ci+r*p.ldc+nrv]
						trow := buf.t[r*nr : r*nr+nrv]
						if flags&kfBeta0 != 0 {
							copy(crow, trow)
							continue
						}
						for q, t := range trow {
							crow[q] = t + beta*crow[q]
						}
					}
				}
			}
		}
	}
}

// gemmBuf holds one goroutine's packing buffers.
type gemmBuf struct {
	a, b, t []float32
	shared  []float32 // a parallel product's packed B, when this is the caller's
}

func (buf *gemmBuf) ensure(k *gemmKernel) {
	if n := k.kc * k.nc; len(buf.b) < n {
		buf.b = make([]float32, n)
	}
	if n := k.kc * k.mr; len(buf.a) < n {
		buf.a = make([]float32, n)
	}
	if n := k.mr * k.nr; len(buf.t) < n {
		buf.t = make([]float32, n)
	}
}

// gemmJob is one parallel product as its caller and helpers share it.
type gemmJob struct {
	pool *pool // the pool whose free list j belongs to
	plan gemmPlan
	next atomic.Int64  // items claimed
	done atomic.Int64  // items finished
	refs atomic.Int64  // goroutines still holding j; the last puts it back
	fin  chan struct{} // the helper that finishes the last item sends once

	nextUnit, packed atomic.Int64 // pieces of plan.shared claimed, done
}

// release drops one hold on j; the last one clears the plan (it refers to
// the caller's slices) and puts j back on the free list.
func (j *gemmJob) release() {
	if j.refs.Add(-1) == 0 {
		j.plan = gemmPlan{}
		j.pool.putJob(j)
	}
}
