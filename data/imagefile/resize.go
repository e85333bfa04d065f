package imagefile

// Resize returns p scaled to w×h by area averaging: output pixel (X, Y)
// covers the source rectangle [X·sx, (X+1)·sx) × [Y·sy, (Y+1)·sy), with
// sx = p.Width/w and sy = p.Height/h, and is the mean of the source pixels
// over it, each weighted by the area of it that is covered. The filter is
// separable, so it runs along rows, then along columns.
func (p *Plane) Resize(w, h int) *Plane {
	if w == p.Width && h == p.Height {
		return &Plane{Pix: append([]float32(nil), p.Pix...), Width: w, Height: h}
	}
	// Rows first: p.Height rows of w values.
	tmp := make([]float64, p.Height*w)
	wx := boxWeights(p.Width, w)
	for y := range p.Height {
		row := p.Pix[y*p.Width : (y+1)*p.Width]
		for x, ws := range wx {
			var s float64
			for _, t := range ws {
				s += t.w * float64(row[t.i])
			}
			tmp[y*w+x] = s
		}
	}
	out := &Plane{Pix: make([]float32, w*h), Width: w, Height: h}
	wy := boxWeights(p.Height, h)
	for y, ws := range wy {
		for x := range w {
			var s float64
			for _, t := range ws {
				s += t.w * tmp[t.i*w+x]
			}
			out.Pix[y*w+x] = float32(s)
		}
	}
	return out
}

// tap is one source index and its weight.
type tap struct {
	i int
	w float64
}

// boxWeights returns, for each of m outputs along an axis of n inputs, the
// inputs it covers and their weights (summing to 1). Coordinates are
// scaled by m so that all arithmetic is in integers until the division:
// output j covers [j·n, (j+1)·n) and input i covers [i·m, (i+1)·m).
func boxWeights(n, m int) [][]tap {
	out := make([][]tap, m)
	for j := range m {
		lo, hi := j*n, (j+1)*n
		for i := lo / m; i*m < hi; i++ {
			a, b := max(lo, i*m), min(hi, (i+1)*m)
			if b > a {
				out[j] = append(out[j], tap{i, float64(b-a) / float64(n)})
			}
		}
	}
	return out
}
