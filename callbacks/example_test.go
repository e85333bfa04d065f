package callbacks_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/myelin-go/myelin/callbacks"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/optimizers/schedules"
	"github.com/myelin-go/myelin/tensor"
)

// exampleData is 64 samples of 2 features with a one-hot label: which
// feature is larger.
func exampleData() (x, y *tensor.Tensor) {
	xs, ys := make([]float32, 64*2), make([]float32, 64*2)
	for i := range 64 {
		a, b := float32(i%8), float32(i/8)
		xs[2*i], xs[2*i+1] = a, b
		if a > b {
			ys[2*i] = 1
		} else {
			ys[2*i+1] = 1
		}
	}
	return tensor.FromFloat32(xs, 64, 2), tensor.FromFloat32(ys, 64, 2)
}

func exampleModel() *model.Sequential {
	m := model.NewSequential(layers.NewDense(8, nn.ActReLU), layers.NewDense(2, nn.ActSoftmax))
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}); err != nil {
		panic(err)
	}
	return m
}

// Early stopping with the best weights restored, a plateau schedule and a
// CSV log, as a Keras user would set them up. The monitored value here is
// scripted by a Lambda so that the output does not depend on the data.
func ExampleEarlyStopping() {
	x, y := exampleData()
	m := exampleModel()
	dir, _ := os.MkdirTemp("", "callbacks-example")
	defer os.RemoveAll(dir)
	score := []float64{0.9, 0.6, 0.7, 0.65, 0.8, 0.5}
	es := &callbacks.EarlyStopping{Monitor: "val_score", Patience: 2, RestoreBestWeights: true}
	cbs := []model.Callback{
		&callbacks.Lambda{EpochEnd: func(epoch int, logs model.Logs) error {
			logs["val_score"] = score[epoch]
			return nil
		}},
		es,
		&callbacks.ReduceLROnPlateau{Monitor: "val_score", Factor: 0.5, Patience: 1},
		&callbacks.CSVLogger{Path: filepath.Join(dir, "log.csv")},
	}
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 6, BatchSize: 16, Callbacks: cbs})
	if err != nil {
		panic(err)
	}
	fmt.Printf("trained %d epochs; best epoch %d, weights restored from it\n", len(h.Epochs), es.BestEpoch+1)
	fmt.Println("learning rate:", m.Optimizer().LearningRate())
	b, _ := os.ReadFile(filepath.Join(dir, "log.csv"))
	fmt.Println("CSV log:", strings.Count(string(b), "\n")-1, "rows after its header")
	// Output:
	// trained 4 epochs; best epoch 2, weights restored from it
	// learning rate: 0.00025
	// CSV log: 4 rows after its header
}

// A cosine decay with warmup driving Adam's rate, step by step.
func ExampleLearningRateSchedule() {
	x, y := exampleData()
	m := exampleModel()
	s := &schedules.CosineDecay{InitialLearningRate: 0, DecaySteps: 8, WarmupTarget: new(0.01), WarmupSteps: 4}
	var rates []string
	record := &callbacks.Lambda{BatchEnd: func(epoch, step int, logs model.Logs) error {
		rates = append(rates, fmt.Sprintf("%.4f", m.Optimizer().LearningRate()))
		return nil
	}}
	_, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 3, BatchSize: 16,
		Callbacks: []model.Callback{record, &callbacks.LearningRateSchedule{Schedule: s}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Join(rates, " "))
	// Output:
	// 0.0000 0.0025 0.0050 0.0075 0.0100 0.0096 0.0085 0.0069 0.0050 0.0031 0.0015 0.0004
}
