package kernel

// The 2×2, stride-2 max pool of most convolutional networks, one output
// row at a time: r0 and r1 are the two input rows under it (from the
// window's first column), y (and dy) the output row of ow pixels, each of
// c channels. Output pixel j, channel ch, has the taps, in row-major
// window order,
//
//	r0[2jc+ch], r0[2jc+c+ch], r1[2jc+ch], r1[2jc+c+ch]

// maxPool2Generic is the reference maxPool2: Go's max, tap by tap, as
// MaxPool computes any window (NaN wins; +0 over −0).
func maxPool2Generic(y, r0, r1 []float32, ow, c int) {
	for j := 0; j < ow; j++ {
		p := 2 * j * c
		a, b := r0[p:p+c], r0[p+c:p+2*c]
		cc, d := r1[p:p+c], r1[p+c:p+2*c]
		for ch, v := range y[j*c : (j+1)*c] {
			v = a[ch]
			v = max(v, b[ch])
			v = max(v, cc[ch])
			v = max(v, d[ch])
			y[j*c+ch] = v
		}
	}
}

// maxPool2BackGeneric is the reference maxPool2Back: each dy goes to the
// first tap equal to its maximum y, added in d0 or d1 (the gradients of r0
// and r1); a NaN maximum equals none.
func maxPool2BackGeneric(d0, d1, r0, r1, y, dy []float32, ow, c int) {
	for j := 0; j < ow; j++ {
		p := 2 * j * c
		for ch, m := range y[j*c : (j+1)*c] {
			g := dy[j*c+ch]
			switch m {
			case r0[p+ch]:
				d0[p+ch] += g
			case r0[p+c+ch]:
				d0[p+c+ch] += g
			case r1[p+ch]:
				d1[p+ch] += g
			case r1[p+c+ch]:
				d1[p+c+ch] += g
			}
		}
	}
}

// maxPool2BackSetGeneric is the reference maxPool2BackSet: it writes
// every tap's gradient, 0 + dy at the tap maxPool2BackGeneric would add
// to and +0 at the others, the bits of clearing d0 and d1 and then
// adding.
func maxPool2BackSetGeneric(d0, d1, r0, r1, y, dy []float32, ow, c int) {
	for j := 0; j < ow; j++ {
		p := 2 * j * c
		for ch, m := range y[j*c : (j+1)*c] {
			var a, b, e, f, g float32
			g += dy[j*c+ch]
			switch m {
			case r0[p+ch]:
				a = g
			case r0[p+c+ch]:
				b = g
			case r1[p+ch]:
				e = g
			case r1[p+c+ch]:
				f = g
			}
			d0[p+ch], d0[p+c+ch], d1[p+ch], d1[p+c+ch] = a, b, e, f
		}
	}
}

// pool2Rows reports whether g is a 2×2, stride-2 window whose outputs all
// read four pixels of the image (no padding), which pool2 handles.
func pool2Rows(g *Window) bool {
	return g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PadTop == 0 && g.PadLeft == 0 &&
		2*g.OH <= g.H && 2*g.OW <= g.W
}
