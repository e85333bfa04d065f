package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// mnistData is the embedded MNIST, decoded once for all tests.
var mnistData *Data

func TestMain(m *testing.M) {
	d, err := LoadMNIST()
	if err != nil {
		panic(err)
	}
	mnistData = d
	os.Exit(m.Run())
}

// tiny runs experiment name for steps steps on the first train and test
// images and checks what every result must hold.
func tiny(t *testing.T, name string, steps, train, test int) *Result {
	t.Helper()
	e, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	r, err := e.Run(context.Background(), Options{Steps: steps, Data: mnistData.Subset(train, test), Log: &log})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if r.Name != name {
		t.Errorf("Name: got %q, want %q", r.Name, name)
	}
	if log.Len() == 0 {
		t.Errorf("%s: no progress written to Options.Log", name)
	}
	if len(r.Table.Rows) == 0 {
		t.Fatalf("%s: empty table", name)
	}
	for i, row := range r.Table.Rows {
		if len(row) != len(r.Table.Header) {
			t.Errorf("%s: table row %d has %d cells, header %d", name, i, len(row), len(r.Table.Header))
		}
	}
	if len(r.Charts) == 0 {
		t.Errorf("%s: no charts", name)
	}
	seen := map[string]bool{}
	for _, c := range r.Charts {
		if c.Name == "" || seen[c.Name] {
			t.Errorf("%s: chart name %q empty or repeated", name, c.Name)
		}
		seen[c.Name] = true
		if len(c.Series)+len(c.Bands) == 0 {
			t.Errorf("%s: chart %q has no data", name, c.Name)
		}
	}
	var out bytes.Buffer
	if err := r.Print(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), strings.Join(strings.Fields(r.Table.Rows[0][0]), " ")) {
		t.Errorf("%s: printed result lacks the table:\n%s", name, out.String())
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("%s: result does not marshal: %v", name, err)
	}
	return r
}

func TestFig1(t *testing.T) {
	const steps = 300
	r := tiny(t, "fig1", steps, 6000, 1000)
	d := r.Data.(*Fig1Data)
	if len(d.Nets) != 2 || d.Nets[0].BatchNorm || !d.Nets[1].BatchNorm {
		t.Fatalf("nets: got %+v, want plain then batchnorm", d.Nets)
	}
	for _, n := range d.Nets {
		if n.Outcome.Steps != steps || n.Outcome.Diverged != "" {
			t.Errorf("%s: Outcome %+v, want %d steps, not diverged", n.Name, n.Outcome, steps)
		}
		if first, last := n.Accuracy[0].Step, n.Accuracy[len(n.Accuracy)-1].Step; first != 0 || last != steps {
			t.Errorf("%s: accuracy recorded from step %d to %d, want 0 to %d", n.Name, first, last, steps)
		}
		if got, want := len(n.Inputs), 101; got != want { // steps 0, 3, 6, …, 300
			t.Errorf("%s: %d percentile records, want %d", n.Name, got, want)
		}
		for _, in := range n.Inputs {
			if len(in.Values) != len(d.Units) {
				t.Fatalf("%s step %d: %d units, want %d", n.Name, in.Step, len(in.Values), len(d.Units))
			}
			for u, v := range in.Values {
				if !(v[0] <= v[1] && v[1] <= v[2]) {
					t.Errorf("%s step %d unit %d: percentiles %v not ordered", n.Name, in.Step, u, v)
				}
			}
		}
	}
	// Ioffe and Szegedy's point: from weights this small, the sigmoid net
	// without BN has barely started after a few hundred steps (0.348 at
	// step 1,000 in the PyTorch reference); with BN it is well on its way.
	plain, bn := d.Nets[0].accuracy(steps), d.Nets[1].accuracy(steps)
	if !(bn > plain+0.3) {
		t.Errorf("accuracy at step %d: batchnorm %.3f, plain %.3f; want batchnorm ahead by more than 0.3", steps, bn, plain)
	}
	// Without BN the small weights leave every sigmoid input near the bias:
	// the band is narrow. With BN the input is normalized: the band spans
	// about one standard deviation either side.
	last := len(d.Nets[0].Inputs) - 1
	pw := d.Nets[0].Inputs[last].Values[0]
	bw := d.Nets[1].Inputs[last].Values[0]
	if !(bw[2]-bw[0] > 4*(pw[2]-pw[0])) {
		t.Errorf("15–85th percentile width at step %d: batchnorm %.3f, plain %.3f; want batchnorm's over 4 times wider", steps, bw[2]-bw[0], pw[2]-pw[0])
	}
	if got, want := len(r.Table.Rows), 1; got != want {
		t.Errorf("table rows: got %d, want %d (only step %d is within the budget)", got, want, steps)
	}
}

func TestFig1Deterministic(t *testing.T) {
	run := func() *Fig1Data {
		r, err := Fig1(context.Background(), Options{Steps: 40, Seed: 7, Data: mnistData.Subset(600, 200)})
		if err != nil {
			t.Fatal(err)
		}
		return r.Data.(*Fig1Data)
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two runs with the same seed differ:\n%+v\n%+v", a, b)
	}
	c, err := Fig1(context.Background(), Options{Steps: 40, Seed: 8, Data: mnistData.Subset(600, 200)})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a, c.Data.(*Fig1Data)) {
		t.Error("seeds 7 and 8 gave identical runs")
	}
}

func TestLearningRate(t *testing.T) {
	r := tiny(t, "lr", 150, 3000, 500)
	d := r.Data.(*SweepData)
	if !slices.Equal(d.Values, sweepRates) || len(d.Nets) != 2 {
		t.Fatalf("sweep over %v with %d nets, want %v with 2", d.Values, len(d.Nets), sweepRates)
	}
	at := func(net int, lr float64) SweepRun {
		i := slices.Index(d.Values, lr)
		return d.Nets[net].Runs[i]
	}
	// At learning rate 1 the plain network is thrown off; with BN it trains.
	if p, b := at(0, 1), at(1, 1); !(b.TestAccuracy > p.TestAccuracy+0.3) {
		t.Errorf("lr 1: batchnorm %.3f (%s), plain %.3f (%s); want batchnorm ahead by more than 0.3", b.TestAccuracy, b.Status(), p.TestAccuracy, p.Status())
	}
	// At 10 the plain one learns nothing.
	if p := at(0, 10); p.Status() == "trains" {
		t.Errorf("lr 10 without BN: status %q (accuracy %.3f), want no learning or diverged", p.Status(), p.TestAccuracy)
	}
	// At 0.001 BN learns faster.
	if p, b := at(0, 0.001), at(1, 0.001); !(b.TestAccuracy > p.TestAccuracy) {
		t.Errorf("lr 0.001: batchnorm %.3f, plain %.3f; want batchnorm ahead", b.TestAccuracy, p.TestAccuracy)
	}
	if len(r.Table.Rows) != len(sweepRates) {
		t.Errorf("table rows: got %d, want %d", len(r.Table.Rows), len(sweepRates))
	}
}

func TestInitialization(t *testing.T) {
	r := tiny(t, "init", 150, 3000, 500)
	d := r.Data.(*SweepData)
	i := slices.Index(d.Values, 0.01)
	p, b := d.Nets[0].Runs[i], d.Nets[1].Runs[i]
	// At 0.01× Glorot, three layers shrink the signal a million times:
	// without BN nothing learns; BN rescales every layer and does not care.
	if p.Status() != "no learning" {
		t.Errorf("scale 0.01 without BN: status %q (accuracy %.3f), want no learning", p.Status(), p.TestAccuracy)
	}
	if !(b.TestAccuracy > 0.5) {
		t.Errorf("scale 0.01 with BN: accuracy %.3f, want over 0.5", b.TestAccuracy)
	}
}

func TestDepth(t *testing.T) {
	r := tiny(t, "depth", 20, 1200, 200)
	d := r.Data.(*DepthData)
	if len(d.Nets) != 2*len(depthDepths) {
		t.Fatalf("%d nets, want %d", len(d.Nets), 2*len(depthDepths))
	}
	for _, n := range d.Nets {
		if len(n.Start) != n.Depth+1 || len(n.GradNorms) != len(n.Steps) || len(n.Steps) != 20 {
			t.Fatalf("depth %d %s: %d layers, %d records at %d steps; want %d layers, 20 records", n.Depth, netName(n.BatchNorm), len(n.Start), len(n.GradNorms), len(n.Steps), n.Depth+1)
		}
		ratio := n.Start[0] / n.Start[n.Depth] // first hidden layer over output layer
		switch {
		case n.BatchNorm && !(ratio > 0.1):
			t.Errorf("depth %d with BN: layer-1/output gradient ratio %.2g, want over 0.1", n.Depth, ratio)
		case !n.BatchNorm && n.Depth == 20 && !(ratio < 1e-6):
			t.Errorf("depth 20 without BN: layer-1/output gradient ratio %.2g, want below 1e-6 (vanishing)", ratio)
		}
	}
	// Without BN the gradient at layer 1 shrinks with every layer added.
	var prev float64 = math.Inf(1)
	for _, n := range d.Nets {
		if n.BatchNorm {
			continue
		}
		if g := n.Start[0]; !(g < prev/10) {
			t.Errorf("depth %d without BN: layer-1 gradient %.2g, want ten times below the shallower net's %.2g", n.Depth, g, prev)
		}
		prev = n.Start[0]
	}
}

func TestRegularization(t *testing.T) {
	r := tiny(t, "regularization", 200, 2000, 500)
	d := r.Data.(*RegularizationData)
	if d.TrainSamples != regSamples || len(d.Nets) != len(regVariants) {
		t.Fatalf("%d samples, %d nets; want %d and %d", d.TrainSamples, len(d.Nets), regSamples, len(regVariants))
	}
	for _, n := range d.Nets {
		last := n.Points[len(n.Points)-1]
		if last.Step != 200 || n.Points[0].Step != 0 {
			t.Errorf("%s: points from step %d to %d, want 0 to 200", n.Name, n.Points[0].Step, last.Step)
		}
		// Ten passes over 1,000 images: they fit them better than unseen ones.
		if !(last.TrainAccuracy > last.TestAccuracy) {
			t.Errorf("%s: train accuracy %.3f, test %.3f; want train above test", n.Name, last.TrainAccuracy, last.TestAccuracy)
		}
	}
}

func TestLookup(t *testing.T) {
	var names []string
	for _, e := range List() {
		got, err := Lookup(e.Name)
		if err != nil || got.Name != e.Name || got.Run == nil || got.DefaultSteps <= 0 || got.Full == "" {
			t.Errorf("Lookup(%q): got %+v, %v", e.Name, got, err)
		}
		names = append(names, e.Name)
	}
	if want := []string{"fig1", "lr", "init", "depth", "regularization", "batchsize", "syncbn", "cnn"}; !slices.Equal(names, want) {
		t.Errorf("List: got %v, want %v", names, want)
	}
	if _, err := Lookup("fig2"); err == nil || !strings.Contains(err.Error(), `"fig2"`) || !strings.Contains(err.Error(), "fig1") {
		t.Errorf("Lookup(fig2): got error %v, want one naming fig2 and the choices", err)
	}
}

func TestOptionsErrors(t *testing.T) {
	empty := &Data{Train: mnistData.Train.Slice(0, 0), Test: mnistData.Test}
	for _, tc := range []struct {
		name string
		opt  Options
		want string
	}{
		{"negative steps", Options{Steps: -1, Data: mnistData}, "steps -1"},
		{"empty training set", Options{Steps: 1, Data: empty}, "non-empty"},
		{"batch above samples", Options{Steps: 1, Data: mnistData.Subset(10, 10)}, "larger than the 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Fig1(context.Background(), tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "experiment: ") {
				t.Errorf("got error %v, want one starting \"experiment: \" containing %q", err, tc.want)
			}
		})
	}
}

func TestSchedule(t *testing.T) {
	for _, tc := range []struct {
		max, fine int
		extra     []int
		want      []int
	}{
		{10, 5, nil, []int{0, 5, 10}},
		{10, 4, []int{3, 12}, []int{0, 3, 4, 8, 10}},
		{7, 0, []int{1, 1}, []int{1, 7}},
	} {
		if got := schedule(tc.max, tc.fine, tc.extra...); !slices.Equal(got, tc.want) {
			t.Errorf("schedule(%d, %d, %v): got %v, want %v", tc.max, tc.fine, tc.extra, got, tc.want)
		}
	}
}

func TestTableWrite(t *testing.T) {
	var b bytes.Buffer
	tb := Table{Header: []string{"step", "acc"}, Rows: [][]string{{"1,000", "0.9"}, {"50,000", "0.978"}}}
	if err := tb.Write(&b); err != nil {
		t.Fatal(err)
	}
	want := "    step    acc\n   1,000    0.9\n  50,000  0.978\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestFmtInt(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 50000: "50,000", 1234567: "1,234,567"} {
		if got := fmtInt(n); got != want {
			t.Errorf("fmtInt(%d): got %q, want %q", n, got, want)
		}
	}
}

func TestFloatJSON(t *testing.T) {
	for _, tc := range []struct {
		f    Float
		want string
	}{{0.5, "0.5"}, {Float(math.NaN()), "null"}, {Float(math.Inf(1)), "null"}} {
		b, err := json.Marshal(tc.f)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%v): got %s, %v; want %s", float64(tc.f), b, err, tc.want)
		}
		var back Float
		if err := json.Unmarshal(b, &back); err != nil || !(back == tc.f || math.IsNaN(float64(back)) && tc.want == "null") {
			t.Errorf("Unmarshal(%s): got %v, %v", b, float64(back), err)
		}
	}
}

func TestWriteReport(t *testing.T) {
	r, err := Depth(context.Background(), Options{Steps: 5, Data: mnistData.Subset(300, 100)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.WriteReport(dir); err != nil {
		t.Fatal(err)
	}
	want := []string{"index.html", "table.csv", "result.json"}
	for _, c := range r.Charts {
		want = append(want, c.Name+".png", c.Name+".svg")
	}
	for _, f := range want {
		if st, err := os.Stat(dir + "/" + f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v (want a non-empty file)", f, err)
		}
	}
	b, err := os.ReadFile(dir + "/result.json")
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Name string
		Data DepthData
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Name != "depth" || len(back.Data.Nets) != 6 {
		t.Errorf("result.json: name %q, %d nets, %v; want depth, 6 nets", back.Name, len(back.Data.Nets), err)
	}
}

func TestBatchSizeTiny(t *testing.T) {
	r := tiny(t, "batchsize", 12, 600, 200)
	d := r.Data.(*BatchSizeData)
	if len(d.Nets) != len(batchNorms) {
		t.Fatalf("%d networks, want %d", len(d.Nets), len(batchNorms))
	}
	for _, n := range d.Nets {
		if len(n.Runs) != len(batchSizes) {
			t.Fatalf("%s: %d runs, want %d", n.Name, len(n.Runs), len(batchSizes))
		}
		for i, run := range n.Runs {
			if run.Batch != batchSizes[i] || run.Outcome.Steps != 12 {
				t.Errorf("%s run %d: batch %d after %d steps, want batch %d after 12", n.Name, i, run.Batch, run.Outcome.Steps, batchSizes[i])
			}
			for _, a := range []Float{run.TestAccuracy, run.TrainAccuracy, run.TrainModeAccuracy} {
				if !(a >= 0 && a <= 1) {
					t.Errorf("%s batch %d: accuracy %v outside [0, 1]", n.Name, run.Batch, a)
				}
			}
		}
	}
	if len(r.Charts) != 2 || len(r.Charts[0].Series) != len(batchNorms) {
		t.Fatalf("charts: %d, first with %d series", len(r.Charts), len(r.Charts[0].Series))
	}
	// Without batch statistics, training and inference mode compute the
	// same thing: the gap is exactly zero.
	for _, n := range d.Nets {
		for _, run := range n.Runs {
			if gap := run.TrainModeAccuracy - run.TrainAccuracy; n.Name != "batchnorm" && gap != 0 {
				t.Errorf("%s batch %d: training-mode minus inference-mode accuracy %v, want 0", n.Name, run.Batch, gap)
			}
		}
	}
	if r.Table.Header[0] != "batch" {
		t.Errorf("header %v", r.Table.Header)
	}
}

func TestSyncBNTiny(t *testing.T) {
	r := tiny(t, "syncbn", 20, 640, 200)
	d := r.Data.(*SyncBNData)
	if len(d.Runs) != 3 || d.Runs[0].Name != "one process" || d.Runs[1].Name != "synchronized" || d.Runs[2].Name != "per rank" {
		t.Fatalf("runs %+v", d.Runs)
	}
	for _, run := range d.Runs {
		if run.Outcome.Steps != 20 || len(run.Curve) == 0 {
			t.Errorf("%s: %d steps, %d curve points", run.Name, run.Outcome.Steps, len(run.Curve))
		}
	}
	// Eight synchronized ranks of 4 rows compute what one process computes
	// at batch 32 in shards of 4: the same accuracy at every point.
	one, synced := d.Runs[0], d.Runs[1]
	if one.TestAccuracy != synced.TestAccuracy || !slices.Equal(one.Curve, synced.Curve) {
		t.Errorf("one process %v %v, synchronized ranks %v %v: want the same", one.TestAccuracy, one.Curve, synced.TestAccuracy, synced.Curve)
	}
}

func TestCNNTiny(t *testing.T) {
	r := tiny(t, "cnn", 6, 300, 100)
	d := r.Data.(*SweepData)
	if len(d.Nets) != 2 || len(d.Nets[1].Runs) != len(cnnRates) || d.Knob != "learning_rate" {
		t.Fatalf("nets %d, runs %d, knob %q", len(d.Nets), len(d.Nets[1].Runs), d.Knob)
	}
	if !strings.HasPrefix(r.Settings[0].Value, "28×28×1 → Conv2D") {
		t.Errorf("network setting %q", r.Settings[0].Value)
	}
}
