package monitor_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/monitor"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// data returns n samples of 20 features in 4 classes (one-hot targets),
// class c shifted by c along the first feature.
func data(n int, seed uint64) (x, y *tensor.Tensor) {
	r := rand.New(rand.NewPCG(seed, 1))
	x, y = tensor.New(tensor.Float32, n, 20), tensor.New(tensor.Float32, n, 4)
	for i := range n {
		for j := range 20 {
			x.Set(r.NormFloat64(), i, j)
		}
		x.Set(x.At(i, 0)+float64(i%4), i, 0)
		y.Set(1, i, i%4)
	}
	return x, y
}

// A ten-layer sigmoid network with small weights: the gradient reaching the
// first layers is a vanishing fraction of the head's, and Health says so.
func ExampleHealth() {
	x, y := data(256, 1)
	var ls []layers.Layer
	for range 10 {
		d := layers.NewDense(32, nn.ActSigmoid)
		d.KernelInitializer = layers.RandomNormal(0.1)
		ls = append(ls, d)
	}
	m := model.NewSequential(append(ls, layers.NewDense(4, nn.ActSoftmax))...)
	if err := m.CompileNames("sgd", "categorical_crossentropy", "accuracy"); err != nil {
		log.Fatal(err)
	}
	h := &monitor.Health{Every: 4}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, Callbacks: []model.Callback{h}}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("records:", len(h.Records))
	fmt.Println("first layer flagged vanishing at", h.Count("dense", monitor.FlagVanishing), "of 4 samples")
	fmt.Println("output layer flagged:", h.Count("dense_10", monitor.FlagVanishing)+h.Count("dense_10", monitor.FlagExploding))
	// Output:
	// records: 44
	// first layer flagged vanishing at 4 of 4 samples
	// output layer flagged: 0
}

// Percentiles tracks the input of a sigmoid — the pre-activation of a
// Dense(sigmoid) layer — over a fixed held-out batch, as in Ioffe and
// Szegedy's Figure 1(b, c).
func ExamplePercentiles() {
	x, y := data(256, 2)
	held, _ := data(100, 3)
	m := model.NewSequential(layers.NewDense(16, nn.ActSigmoid), layers.NewDense(4, nn.ActSoftmax))
	if err := m.CompileNames("sgd", "categorical_crossentropy"); err != nil {
		log.Fatal(err)
	}
	p := &monitor.Percentiles{X: held, Layer: 0, PreActivation: true, Units: []int{0, 7}, Every: 4}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1, Callbacks: []model.Callback{p}}); err != nil {
		log.Fatal(err)
	}
	for _, r := range p.Records[:4] {
		v := r.Values
		fmt.Printf("step %d unit %d: ordered %v\n", r.Step, r.Unit, v[0] <= v[1] && v[1] <= v[2])
	}
	fmt.Println("records:", len(p.Records)) // steps 0, 4 and 8, two units each
	// Output:
	// step 0 unit 0: ordered true
	// step 0 unit 7: ordered true
	// step 4 unit 0: ordered true
	// step 4 unit 7: ordered true
	// records: 6
}

// After Recalibrate on a batch, inference on that batch normalizes with
// the batch's own statistics, so the gap between training-mode and
// inference-mode outputs that BatchNorm records vanishes.
func ExampleRecalibrate() {
	x, y := data(256, 4)
	held, _ := data(64, 5)
	m := model.NewSequential(layers.NewDense(16, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(4, nn.ActSoftmax))
	if err := m.CompileNames("adam", "categorical_crossentropy"); err != nil {
		log.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{}); err != nil {
		log.Fatal(err)
	}
	gap := func() float64 {
		b := &monitor.BatchNorm{X: held}
		if err := b.OnTrainBegin(m); err != nil { // records Step 0 now
			log.Fatal(err)
		}
		return b.Records[0].TrainInferGap
	}
	fmt.Println("gap above 1%:", gap() > 0.01)
	if err := monitor.Recalibrate(context.Background(), m, held, 0); err != nil {
		log.Fatal(err)
	}
	fmt.Println("gap below 1e-6 after Recalibrate:", gap() < 1e-6)
	// Output:
	// gap above 1%: true
	// gap below 1e-6 after Recalibrate: true
}

// Curves samples the running loss every few steps, finer than History's
// one point per epoch.
func ExampleCurves() {
	x, y := data(128, 6)
	m := model.NewSequential(layers.NewDense(8, nn.ActReLU), layers.NewDense(4, nn.ActSoftmax))
	if err := m.CompileNames("sgd", "categorical_crossentropy"); err != nil {
		log.Fatal(err)
	}
	c := &monitor.Curves{Every: 2}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, Callbacks: []model.Callback{c}}); err != nil {
		log.Fatal(err)
	}
	steps, _ := c.Series("loss", false)
	fmt.Println("loss sampled at steps", steps)
	// Output:
	// loss sampled at steps [2 4 6 8]
}
