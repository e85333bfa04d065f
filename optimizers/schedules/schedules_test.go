package schedules

import (
	"math"
	"sort"
	"strings"
	"testing"
)

// close reports whether got is within 1e-12 of want, relative to
// max(1, |want|).
func close(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*max(1, math.Abs(want))
}

// checkAll compares s.Rate with want at every step in [0, n].
func checkAll(t *testing.T, s Schedule, n int, want func(step int) float64) {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for step := 0; step <= n; step++ {
		if got, w := s.Rate(step), want(step); !close(got, w) {
			t.Fatalf("%s %+v: Rate(%d) = %.17g, want %.17g", s.ClassName(), s, step, got, w)
		}
	}
}

// The expected values below are computed another way than the schedules
// compute them (logarithms, cos² for ½(1+cos), a binary search), so that a
// slip in either shows.

func TestExponentialDecayEveryStep(t *testing.T) {
	for _, s := range []*ExponentialDecay{
		{InitialLearningRate: 0.1, DecaySteps: 7, DecayRate: 0.96},
		{InitialLearningRate: 0.1, DecaySteps: 7, DecayRate: 0.96, Staircase: true},
		{InitialLearningRate: 2e-3, DecaySteps: 2.5, DecayRate: 0.5, Staircase: true},
		{InitialLearningRate: 1, DecaySteps: 1, DecayRate: 1.01},
	} {
		checkAll(t, s, 300, func(step int) float64 {
			e := float64(step) / s.DecaySteps
			if s.Staircase {
				e = float64(int(e)) // steps are ≥ 0: truncation is floor
			}
			return s.InitialLearningRate * math.Exp(e*math.Log(s.DecayRate))
		})
	}
}

func TestInverseTimeDecayEveryStep(t *testing.T) {
	for _, s := range []*InverseTimeDecay{
		{InitialLearningRate: 0.1, DecaySteps: 1, DecayRate: 0.5},
		{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5, Staircase: true},
		{InitialLearningRate: 3e-4, DecaySteps: 3.5, DecayRate: 2},
	} {
		checkAll(t, s, 300, func(step int) float64 {
			k := float64(step) / s.DecaySteps
			if s.Staircase {
				k = float64(int(k))
			}
			return s.InitialLearningRate * (1 / (1 + k*s.DecayRate))
		})
	}
}

func TestPiecewiseConstantDecayEveryStep(t *testing.T) {
	for _, s := range []*PiecewiseConstantDecay{
		{Boundaries: []int{10, 20, 25}, Values: []float64{1, 0.5, 0.1, 0.01}},
		{Boundaries: []int{0}, Values: []float64{3, 4}},
		{Boundaries: nil, Values: []float64{0.7}},
	} {
		checkAll(t, s, 40, func(step int) float64 {
			// The first boundary ≥ step picks the value; none picks the last.
			return s.Values[sort.SearchInts(s.Boundaries, step)]
		})
	}
}

func TestCosineDecayEveryStep(t *testing.T) {
	for _, s := range []*CosineDecay{
		{InitialLearningRate: 0.1, DecaySteps: 100},
		{InitialLearningRate: 0.1, DecaySteps: 100, Alpha: 0.2},
		{InitialLearningRate: 0, DecaySteps: 60, WarmupTarget: new(0.1), WarmupSteps: 40},
		{InitialLearningRate: 0.01, DecaySteps: 50, Alpha: 0.1, WarmupTarget: new(0.05), WarmupSteps: 7},
		{InitialLearningRate: 0.01, DecaySteps: 50, WarmupTarget: new(0.05)}, // no warmup steps: decays from the target
	} {
		checkAll(t, s, 250, func(step int) float64 {
			from, k := s.InitialLearningRate, step
			if s.WarmupTarget != nil {
				if step < s.WarmupSteps {
					f := float64(step) / float64(s.WarmupSteps)
					return s.InitialLearningRate*(1-f) + *s.WarmupTarget*f
				}
				from, k = *s.WarmupTarget, step-s.WarmupSteps
			}
			k = min(k, s.DecaySteps)
			c := math.Cos(math.Pi * float64(k) / float64(2*s.DecaySteps))
			return from * (s.Alpha + (1-s.Alpha)*c*c) // ½(1+cos x) = cos²(x/2)
		})
	}
}

// TestKerasDocumentedValues checks values from the examples in Keras's
// documentation of each schedule, worked by hand.
func TestKerasDocumentedValues(t *testing.T) {
	exp := &ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 100000, DecayRate: 0.96, Staircase: true}
	pw := &PiecewiseConstantDecay{Boundaries: []int{100000, 110000}, Values: []float64{1.0, 0.5, 0.1}}
	inv := &InverseTimeDecay{InitialLearningRate: 0.1, DecaySteps: 1.0, DecayRate: 0.5}
	cos := &CosineDecay{InitialLearningRate: 0.1, DecaySteps: 1000}
	warm := &CosineDecay{InitialLearningRate: 0, DecaySteps: 1000, WarmupTarget: new(0.1), WarmupSteps: 1000}
	for _, c := range []struct {
		s    Schedule
		step int
		want float64
	}{
		{exp, 0, 0.1}, {exp, 99999, 0.1}, {exp, 100000, 0.096}, {exp, 250000, 0.09216},
		{pw, 100000, 1.0}, {pw, 100001, 0.5}, {pw, 110000, 0.5}, {pw, 110001, 0.1},
		{inv, 0, 0.1}, {inv, 1, 0.1 / 1.5}, {inv, 2, 0.05}, {inv, 8, 0.02},
		{cos, 0, 0.1}, {cos, 500, 0.05}, {cos, 1000, 0}, {cos, 5000, 0},
		{warm, 0, 0}, {warm, 500, 0.05}, {warm, 1000, 0.1}, {warm, 1500, 0.05}, {warm, 2000, 0}, {warm, 9000, 0},
	} {
		if got := c.s.Rate(c.step); !close(got, c.want) {
			t.Errorf("%s %+v: Rate(%d) = %.17g, want %g", c.s.ClassName(), c.s, c.step, got, c.want)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, s := range []Schedule{
		&ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 7, DecayRate: 0.96, Staircase: true},
		&InverseTimeDecay{InitialLearningRate: 0.1, DecaySteps: 3, DecayRate: 0.5},
		&PiecewiseConstantDecay{Boundaries: []int{3, 9}, Values: []float64{1, 0.5, 0.25}},
		&CosineDecay{InitialLearningRate: 0.1, DecaySteps: 100, Alpha: 0.1},
		&CosineDecay{InitialLearningRate: 0, DecaySteps: 100, WarmupTarget: new(0.3), WarmupSteps: 9},
	} {
		b, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if got.ClassName() != s.ClassName() {
			t.Fatalf("Unmarshal(%s) is a %s", b, got.ClassName())
		}
		for step := range 200 {
			if math.Float64bits(got.Rate(step)) != math.Float64bits(s.Rate(step)) {
				t.Fatalf("after a round trip through %s: Rate(%d) = %v, want %v", b, step, got.Rate(step), s.Rate(step))
			}
		}
	}
}

func TestMarshalUsesKerasKeys(t *testing.T) {
	b, err := Marshal(&CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"class_name":"CosineDecay","config":{"initial_learning_rate":0.1,"decay_steps":10,"alpha":0,"warmup_target":null,"warmup_steps":0}}`
	if string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
}

func TestInvalid(t *testing.T) {
	for _, c := range []struct {
		s    Schedule
		want string
	}{
		{&ExponentialDecay{InitialLearningRate: 0.1, DecayRate: 0.9}, "decay_steps 0"},
		{&ExponentialDecay{InitialLearningRate: math.NaN(), DecaySteps: 1, DecayRate: 0.9}, "initial_learning_rate NaN"},
		{&InverseTimeDecay{InitialLearningRate: 0.1, DecaySteps: 1, DecayRate: -1}, "decay_rate -1 is negative"},
		{&PiecewiseConstantDecay{Boundaries: []int{1, 2}, Values: []float64{1, 2}}, "2 boundaries and 2 values"},
		{&PiecewiseConstantDecay{Boundaries: []int{2, 2}, Values: []float64{1, 2, 3}}, "increase strictly"},
		{&CosineDecay{InitialLearningRate: 0.1}, "decay_steps 0"},
		{&CosineDecay{InitialLearningRate: 0.1, DecaySteps: 5, WarmupSteps: -1}, "warmup_steps -1"},
		{&CosineDecay{InitialLearningRate: 0.1, DecaySteps: 5, WarmupTarget: new(math.Inf(1))}, "warmup_target +Inf"},
	} {
		err := c.s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "schedules: ") {
			t.Errorf("%T %+v: Validate() = %v, want an error saying %q", c.s, c.s, err, c.want)
		}
		if _, err := Marshal(c.s); err == nil {
			t.Errorf("%T %+v: Marshal accepted it", c.s, c.s)
		}
	}
	for _, b := range []string{
		`{"class_name":"PolynomialDecay","config":{}}`,
		`{"class_name":"CosineDecay","config":{"decay_steps":10,"bogus":1}}`,
		`{"class_name":"CosineDecay","config":{"decay_steps":0}}`,
		`{"class_name":"CosineDecay","config":{"decay_steps":1}} {}`,
	} {
		if s, err := Unmarshal([]byte(b)); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", b, s)
		}
	}
}
