package tensorboard_test

import (
	"context"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensorboard"
)

// Write a loss curve and a histogram by hand; `tensorboard --logdir runs`
// shows them.
func ExampleWriter() {
	dir, err := os.MkdirTemp("", "runs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	w, err := tensorboard.NewWriter(filepath.Join(dir, "run1"))
	if err != nil {
		log.Fatal(err)
	}
	for step := int64(1); step <= 100; step++ {
		if err := w.Scalar("loss", step, math.Exp(-float64(step)/20)); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Histogram("weights", 100, []float64{-0.3, -0.1, 0, 0.1, 0.2, 0.2}); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(filepath.Base(w.Path()), "events.out.tfevents."))
	// Output:
	// true
}

// Attach a Callback to Fit; each Fit writes one event file in the run's
// directory.
func ExampleCallback() {
	dir, err := os.MkdirTemp("", "runs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	x, y := tinyData()
	m := model.NewSequential(
		layers.NewDense(8, nn.ActReLU),
		layers.NewBatchNormalization(),
		layers.NewDense(2, nn.ActSoftmax),
	)
	if err := m.CompileNames("adam", "categorical_crossentropy", "accuracy"); err != nil {
		log.Fatal(err)
	}
	tb := tensorboard.NewCallback(filepath.Join(dir, "bn"))
	tb.BatchEvery = 1
	defer tb.Close() // Fit skips OnTrainEnd when it stops early
	_, err = m.Fit(context.Background(), x, y, model.FitOptions{
		Epochs: 2, BatchSize: 8, Callbacks: []model.Callback{tb},
	})
	if err != nil {
		log.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "bn", "events.out.tfevents.*"))
	fmt.Println(len(files), "event file")
	// Output:
	// 1 event file
}
