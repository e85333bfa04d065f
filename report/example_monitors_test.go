package report_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/report"
	"github.com/myelin-go/myelin/tensor"
)

// Monitors record a run for its report: here a small batch-normalized
// network on random data, whose report gets the monitors' charts.
func ExampleMonitors() {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, features, classes = 256, 8, 3
	x, y := make([]float32, n*features), make([]float32, n*classes)
	for i := range n {
		for j := range features {
			x[i*features+j] = float32(rng.NormFloat64())
		}
		y[i*classes+rng.IntN(classes)] = 1
	}
	m := model.NewSequential()
	m.Add(layers.NewDense(16, nn.ActReLU))
	m.Add(layers.NewBatchNormalization())
	m.Add(layers.NewDense(classes, nn.ActSoftmax))
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}); err != nil {
		log.Fatal(err)
	}
	xt, yt := tensor.FromFloat32(x, n, features), tensor.FromFloat32(y, n, classes)

	ms := report.NewMonitors(m, xt.Rows(0, 64), 3*n/32)
	h, err := m.Fit(context.Background(), xt, yt, model.FitOptions{Epochs: 3, BatchSize: 32, Verbose: 0, Callbacks: ms.Callbacks()})
	if err != nil {
		log.Fatal(err)
	}
	run := report.Run{Title: "demo", History: *h, Charts: report.HistoryCharts(*h)}
	ms.AddTo(&run, m)
	for _, c := range run.Charts {
		fmt.Println(c.Name)
	}
	for _, d := range run.Data {
		fmt.Println(d.File)
	}
	// Output:
	// loss
	// loss-steps
	// gradient-norm
	// update-ratio
	// weight-norm
	// dead-relu
	// bn-mean-drift
	// bn-var-drift
	// bn-gap
	// bn-gamma
	// activation-percentiles
	// health.csv
	// batchnorm.csv
	// percentiles.csv
}
