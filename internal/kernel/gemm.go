package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// microKernel computes one mr×nr tile of C from kc steps:
//
//	acc[r][c] = Σ_{p<kc} A(r,p)*B(p,c)   (p ascending, one accumulator each)
//	C(r,c) = alpha*acc[r][c]              if flags&kfBeta0
//	C(r,c) = alpha*acc[r][c] + beta*C(r,c) otherwise (fused in assembly)
//
// with A(r,p) at a + r*rsa + p*ksa, B(p,c) at b + p*ksb + 4c and C(r,c) at
// c + r*ldc + 4c (byte offsets). Strides on A let it read A in place, in
// either orientation, or from a packed tile.
//
// flags bits 8-15 hold the number of rows to write, bits 16-23 the number
// of columns to read from B and write in C, and bits 32-63 the same columns
// as a mask (of the first 32 only: kernels with nr > 32 use the count).
// Kernels with edge == false are only given full tiles; the others must not
// touch memory outside the rows and columns given.
type microKernel func(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64)

// kfBeta0 tells a micro-kernel not to read C.
const kfBeta0 = 1

// tileFlags encodes the rows and columns of a tile for a microKernel
// (cols <= 64).
func tileFlags(rows, cols int) uint64 {
	return uint64(rows)<<8 | uint64(cols)<<16 | (1<<uint(min(cols, 32))-1)<<32
}

// gemmKernel describes a micro-kernel and the blocking that suits it.
type gemmKernel struct {
	name   string
	mr, nr int  // register tile
	kc     int  // largest k block
	nc     int  // largest packed block of B columns (multiple of nr)
	edge   bool // fn handles partial tiles itself (see microKernel)
	fn     microKernel
	// packBT packs one panel of a transposed B (see packBTGeneric);
	// nil means packBTGeneric.
	packBT func(d, b []float32, ldb, kc, w, nr int)
}

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
	// parMinWork is the m*n*k from which Sgemm uses several goroutines.
	// 32×784×64 (1.6M) on two threads: 185–193 GFLOP/s against 104–110
	// alone. At 2^20 a training step at batch 32 used to fall to half speed
	// now and then: the caller waited for a helper to turn up, and a helper
	// polling with runtime.Gosched kept its thread on the one core the host
	// left. With the caller waiting only for claimed items and helpers
	// yielding their thread (osYield), BenchmarkTrainStep on two threads
	// at 2^20 against 2^21: batch 32 146.7 vs 151.4 µs, batch 128 416 vs
	// 423 µs (interleaved, n=10); pinned to one core, batch 32 157 vs
	// 150 µs, where it had been 264 vs 148. Helpers poll for helperSpin
	// after a job before they park, so products that follow each other
	// closely find them awake.
	parMinWork = 1 << 20
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
)

// pickKernel returns small for m <= smallMMax when there is one, else big.
// With the same kc both sum each element over the same k blocks in the same
// order; where both also handle edges themselves (AVX-512) a row of C gets
// the same bits from either (TestSmallKernelSameBits).
func pickKernel(big, small *gemmKernel, m int) *gemmKernel {
	if small != nil && m <= smallMMax {
		return small
	}
	return big
}

const maxWorkers = 64

func sgemmBlocked(kern *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nk := (k + kern.kc - 1) / kern.kc
	p := gemmPlan{
		kern: kern, transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc,
		kc:      (k + nk - 1) / nk,
		directB: !transB && m <= directBMaxM,
		packA:   min(n, kern.nc) >= packAMinN,
	}
	nw := 1
	if m*n*k >= parMinWork && !helpersStalled() {
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
		j = getJob() // nil when helpers that never turned up hold every job
	}
	if j == nil {
		buf := getBuf()
		p.run(buf, nil, false)
		putBuf(buf)
		return
	}
	startWorkers(nw - 1)
	parallelProducts.Add(1)
	buf := getBuf()
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
	j.refs.Store(int64(nw))
	for i := 0; i < nw-1; i++ {
		select {
		case workCh <- j:
		default:
			// Helpers are that far behind: do without this one.
			j.refs.Add(-1)
		}
	}
	// Wait only for the items others claimed, not for helpers to turn up:
	// a helper that was parked, or whose core the host has taken, finds
	// nothing left when it comes. Poll a while before parking: waking this
	// goroutine costs more than a small product takes.
	if h := callerStart.Load(); h != nil {
		(*h)()
	}
	start := time.Now()
	if !j.plan.run(buf, j, false) {
		own := time.Since(start)
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
		noteWait(time.Since(start)-own, own)
	}
	putBuf(buf)
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
				noteWait(time.Since(start), 0)
			}
		}
	}
	for {
		it := int(j.next.Add(1) - 1)
		if it >= p.items {
			return false
		}
		if helper {
			if h := helperClaimed.Load(); h != nil {
				(*h)()
			}
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
				if mrv < mr || p.packA {
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

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as panels of nr columns,
// each kc×nr row-major, the last one zero padded.
func packB(kern *gemmKernel, dst, b []float32, ldb int, transB bool, pc, kc, jc, nc int) {
	nr := kern.nr
	if !transB && nr == 32 && nc >= 32 {
		// Whole 32-column panels row by row of B: each row of the block is
		// read once, front to back, which the prefetcher follows; panel by
		// panel it was kc short reads a row stride apart.
		full := nc &^ 31
		for q := 0; q < kc; q++ {
			o := (pc+q)*ldb + jc
			for jp := 0; jp < full; jp += 32 {
				*(*[32]float32)(dst[jp*kc+q*32:]) = *(*[32]float32)(b[o+jp:])
			}
		}
		if full == nc {
			return
		}
		jc, nc, dst = jc+full, nc-full, dst[full*kc:]
	}
	for jp := 0; jp < nc; jp += nr {
		w := min(nr, nc-jp)
		d := dst[jp*kc : jp*kc+kc*nr]
		switch {
		case transB && kern.packBT != nil:
			kern.packBT(d, b[(jc+jp)*ldb+pc:], ldb, kc, w, nr)
		case transB:
			packBTGeneric(d, b[(jc+jp)*ldb+pc:], ldb, kc, w, nr)
		case w == 32 && nr == 32:
			// Whole-panel rows copy as arrays: no call per row.
			for q := 0; q < kc; q++ {
				o := (pc+q)*ldb + jc + jp
				*(*[32]float32)(d[q*32:]) = *(*[32]float32)(b[o:])
			}
		default:
			for q := 0; q < kc; q++ {
				src := b[(pc+q)*ldb+jc+jp : (pc+q)*ldb+jc+jp+w]
				row := d[q*nr : q*nr+nr]
				copy(row, src)
				clear(row[w:])
			}
		}
	}
}

// packBTGeneric packs one panel of a transposed B: d[q*nr+c] = b[c*ldb+q]
// for q < kc, c < w; columns w..nr-1 are zeroed.
func packBTGeneric(d, b []float32, ldb, kc, w, nr int) {
	for c := 0; c < w; c++ {
		src := b[c*ldb : c*ldb+kc]
		for q, v := range src {
			d[q*nr+c] = v
		}
	}
	if w < nr {
		for q := 0; q < kc; q++ {
			clear(d[q*nr+w : q*nr+nr])
		}
	}
}

// packA copies op(A)[ir:ir+mrv, pc:pc+kc] into dst as a kc×mr tile
// (dst[q*mr+r]), rows mrv..mr-1 zeroed. An A that is not transposed is
// laid out as a transposed B panel (rows contiguous along k), so the
// kernel's register-transpose packer does it when it has one.
func packA(kern *gemmKernel, dst, a []float32, lda int, transA bool, ir, mrv, pc, kc int) {
	mr := kern.mr
	d := dst[:kc*mr]
	if transA {
		for q := 0; q < kc; q++ {
			row := d[q*mr : q*mr+mr]
			copy(row, a[(pc+q)*lda+ir:(pc+q)*lda+ir+mrv])
			clear(row[mrv:])
		}
		return
	}
	if kern.packBT != nil {
		kern.packBT(d, a[ir*lda+pc:], lda, kc, mrv, mr)
		return
	}
	for r := 0; r < mrv; r++ {
		src := a[(ir+r)*lda+pc : (ir+r)*lda+pc+kc]
		for q, v := range src {
			d[q*mr+r] = v
		}
	}
	if mrv < mr {
		for q := 0; q < kc; q++ {
			clear(d[q*mr+mrv : q*mr+mr])
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

// Free lists; channels rather than sync.Pool because a GC empties a Pool
// and the steady state must not allocate.
var (
	bufFree = make(chan *gemmBuf, maxWorkers)
	jobFree = make(chan *gemmJob, maxWorkers)
	workCh  = make(chan *gemmJob, maxWorkers)

	workersMu sync.Mutex
	workers   int
	jobsOnce  sync.Once

	parallelProducts atomic.Int64 // shared out to helpers, for tests
)

type gemmJob struct {
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
		putJob(j)
	}
}

// spinWait is how long Sgemm's own goroutine polls (yielding its P and
// its thread each time) for its helpers to finish before it parks: parking and being woken
// costs it tens of µs on this VM, more than a helper's last item takes.
// While helpers parked between jobs, a 50µs poll made a training step at
// batch 128 on two threads 16% slower (it waited on a helper still waking
// up); with helperSpin keeping them awake, the same poll made it 10% faster
// (BenchmarkTrainStep, interleaved, n=12, p=0.007).
var spinWait = 50 * time.Microsecond

// helperSpin is how long a helper polls for its next job before it parks.
// It runs on a core the caller is not using, so it takes nothing from the
// caller (when the host leaves one core for both, osYield hands it over);
// a product that comes within it starts on two cores at once instead of
// waiting tens of µs for a parked helper to wake. With it,
// (128×784)·(784×64) back to back on two threads went from 104–108 GFLOP/s
// (serial, the helper would be parked) to 130–170, and a training step was
// unchanged within the noise (BenchmarkTrainStep, interleaved, n=6). Like
// OpenBLAS's threads, it keeps a second core busy for that long after a
// product.
var helperSpin = 200 * time.Microsecond

// When the caller of a parallel product waited for a helper's item for
// longer than stallWait and than twice its own share took, the helper's
// core was taken from it (on this VM the host does that to one of the two
// for milliseconds at a time), and products run alone for stallBackoff:
// a wait of a few milliseconds costs a training step at batch 32 (150µs)
// more than going parallel ever gains it.
var (
	stallWait    = 200 * time.Microsecond
	stallBackoff = 50 * time.Millisecond // tests that force the parallel path set 0

	clockStart  = time.Now()
	serialUntil atomic.Int64 // ns since clockStart
)

// noteWait records that the caller waited for helpers for wait after
// working for own.
func noteWait(wait, own time.Duration) {
	if wait > stallWait && wait > 2*own {
		serialUntil.Store(int64(time.Since(clockStart) + stallBackoff))
	}
}

// helpersStalled reports whether products should run alone for now.
func helpersStalled() bool {
	return serialUntil.Load() > int64(time.Since(clockStart))
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

func getBuf() *gemmBuf {
	select {
	case b := <-bufFree:
		return b
	default:
		return new(gemmBuf)
	}
}

func putBuf(b *gemmBuf) {
	select {
	case bufFree <- b:
	default:
	}
}

// getJob returns a free job, or nil when all maxWorkers are held, which
// happens only when helpers that have not turned up hold them. All are
// made on the first call, so a late helper never makes a step allocate.
func getJob() *gemmJob {
	jobsOnce.Do(func() {
		for range maxWorkers {
			jobFree <- &gemmJob{fin: make(chan struct{}, 1)}
		}
	})
	select {
	case j := <-jobFree:
		return j
	default:
		return nil
	}
}

func putJob(j *gemmJob) {
	select {
	case jobFree <- j:
	default:
	}
}

// Test hooks, where a test stops a goroutine as the host does when it
// takes its core: helperStart runs in a helper before it starts a job,
// helperClaimed each time it has claimed an item, and callerStart in the
// caller of a parallel product before it starts on the items.
var helperStart, helperClaimed, callerStart atomic.Pointer[func()]

// startWorkers makes sure n persistent workers exist. Each owns its buffers.
func startWorkers(n int) {
	workersMu.Lock()
	defer workersMu.Unlock()
	for ; workers < n; workers++ {
		go func() {
			buf := new(gemmBuf)
			var j *gemmJob
			poll := func() bool {
				select {
				case j = <-workCh:
					return true
				default:
					return false
				}
			}
			for {
				if !spinFor(poll, helperSpin) {
					j = <-workCh
				}
				if h := helperStart.Load(); h != nil {
					(*h)()
				}
				last := j.plan.run(buf, j, true)
				j.release() // before fin: the caller holds j until then
				if last {
					j.fin <- struct{}{}
				}
			}
		}()
	}
}

// goKernel is the plain Go twin of the assembly micro-kernels, for any
// mr×nr up to 8×64, honouring the row and column counts in flags: it
// reads only those rows of A and columns of B. Tests run the driver with
// it on every platform.
func goKernel(mr, nr int) microKernel {
	return func(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64) {
		rows := min(mr, int(flags>>8&0xff))
		cols := min(nr, int(flags>>16&0xff))
		var acc [8][64]float32
		for p := 0; p < kc; p++ {
			ap := unsafe.Add(unsafe.Pointer(a), uintptr(p)*ksa)
			bp := unsafe.Add(unsafe.Pointer(b), uintptr(p)*ksb)
			for r := 0; r < rows; r++ {
				av := *(*float32)(unsafe.Add(ap, uintptr(r)*rsa))
				for q := 0; q < cols; q++ {
					acc[r][q] += av * *(*float32)(unsafe.Add(bp, q*4))
				}
			}
		}
		for r := 0; r < rows; r++ {
			for q := 0; q < cols; q++ {
				cp := (*float32)(unsafe.Add(unsafe.Pointer(c), uintptr(r)*ldc+uintptr(q)*4))
				if flags&kfBeta0 != 0 {
					*cp = alpha * acc[r][q]
				} else {
					*cp = alpha*acc[r][q] + beta**cp
				}
			}
		}
	}
}
