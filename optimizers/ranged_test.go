package optimizers_test

import (
	"math"
	"testing"

	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// TestRangedMatchesStep: a step taken as Prepare, StepRange over ranges
// that cut parameters anywhere, and Finish writes Step's bits, step after
// step.
func TestRangedMatchesStep(t *testing.T) {
	n := 0
	for name, mk := range allConfigs() {
		if _, ok := mk().(optimizers.Ranged); !ok {
			continue
		}
		n++
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			t.Run(name+"/"+dt.String(), func(t *testing.T) {
				a, pa := mk(), twoParams(dt)
				b, pb := mk(), twoParams(dt)
				r := b.(optimizers.Ranged)
				for step := range 4 {
					for i := range pa {
						for j := range pa[i].Grad.Len() {
							g := math.Cos(float64(7*j+step)) * float64(step+1)
							pa[i].Grad.SetIndex(j, g)
							pb[i].Grad.SetIndex(j, g)
						}
					}
					if err := a.Step(pa); err != nil {
						t.Fatal(err)
					}
					if err := r.Prepare(pb); err != nil {
						t.Fatal(err)
					}
					// Parameter 0 has 12 elements, parameter 1 has 5:
					// cut them unevenly, and out of order.
					for _, c := range [][3]int{{1, 3, 5}, {0, 5, 12}, {0, 0, 5}, {1, 0, 3}} {
						r.StepRange(c[0], c[1], c[2])
					}
					r.Finish()
					for i := range pa {
						for j := range pa[i].Value.Len() {
							x, y := pa[i].Value.Index(j), pb[i].Value.Index(j)
							if math.Float64bits(x) != math.Float64bits(y) {
								t.Fatalf("step %d param %d element %d: ranged %v, Step %v", step, i, j, y, x)
							}
						}
					}
				}
				if a.Iterations() != b.Iterations() {
					t.Fatalf("iterations: ranged %d, Step %d", b.Iterations(), a.Iterations())
				}
			})
		}
	}
	if n < 2 {
		t.Fatalf("%d configurations implement Ranged; Adam's and AdamW's should", n)
	}
}
