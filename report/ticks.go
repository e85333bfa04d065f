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
