package kernel

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
