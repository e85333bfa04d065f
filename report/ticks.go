package report

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// logTicks marks a logarithmic axis. gonum's LogTicks labels only powers
// of ten, so a range inside one decade (a loss from 0.3 to 0.8) would get
// no label at all; this labels 1, 2 and 5 times powers of ten when there
// are fewer than three powers of ten in range, and every digit if even that
// leaves fewer than two labels.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) || math.IsInf(max, 0) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	lo := int(math.Floor(math.Log10(min)))
	hi := int(math.Ceil(math.Log10(max)))
	inRange := func(v float64) bool { return v >= min*(1-1e-9) && v <= max*(1+1e-9) }
	count := func(mantissas []int) int {
		n := 0
		for k := lo; k <= hi; k++ {
			for _, m := range mantissas {
				if inRange(float64(m) * math.Pow10(k)) {
					n++
				}
			}
		}
		return n
	}
	labelled := []int{1}
	if count(labelled) < 3 {
		labelled = []int{1, 2, 5}
		if count(labelled) < 2 {
			labelled = []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
		}
	}
	// Many decades: label every step-th power of ten only.
	step := 1
	if len(labelled) == 1 {
		step = (hi-lo)/8 + 1
	}
	var ticks []plot.Tick
	for k := lo; k <= hi; k++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow10(k)
			if !inRange(v) {
				continue
			}
			t := plot.Tick{Value: v}
			for _, l := range labelled {
				if m == l && (m != 1 || len(labelled) > 1 || k%step == 0) {
					t.Label = strconv.FormatFloat(v, 'g', 6, 64)
				}
			}
			ticks = append(ticks, t)
		}
	}
	if count(labelled) < 2 {
		// Narrower than from one digit to the next: ordinary ticks.
		var out []plot.Tick
		for _, t := range (plot.DefaultTicks{}).Ticks(min, max) {
			if t.Value > 0 {
				out = append(out, t)
			}
		}
		return out
	}
	return ticks
}

// linearTicks marks a linear axis at 1, 2 or 5 times a power of ten, three
// to seven labels per axis, with unlabelled minor ticks between, and writes
// labels with the fewest digits ("1000", "0.3"; gonum's default writes
// "1000.00" beside "250.00").
//
// With integer set (every point has a whole number there, as epochs do)
// the step is at least 1.
type linearTicks struct{ integer bool }

func (lt linearTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	raw := (max - min) / 6
	p := math.Pow10(int(math.Floor(math.Log10(raw))))
	step, minors := 10*p, 5
	for _, m := range []struct {
		f float64
		n int
	}{{1, 5}, {2, 4}, {5, 5}} {
		if m.f*p >= raw {
			step, minors = m.f*p, m.n
			break
		}
	}
	if lt.integer && step < 1 {
		step, minors = 1, 1
	}
	minor := step / float64(minors)
	var ticks []plot.Tick
	first := math.Ceil(min/minor - 1e-9)
	for i := first; i*minor <= max+minor*1e-9; i++ {
		v := i * minor
		t := plot.Tick{Value: v}
		if k := math.Round(v / step); math.Abs(v/step-k) < 1e-6 {
			v = k * step
			if math.Abs(v) < step*1e-9 {
				v = 0
			}
			t.Value, t.Label = v, strconv.FormatFloat(v, 'g', 10, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
