package model_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// crashAfter stands for a process that dies after n steps.
type crashAfter struct {
	model.BaseCallback
	n int
}

func (c *crashAfter) OnBatchEnd(epoch, step int, logs model.Logs) error {
	if c.n--; c.n == 0 {
		return model.ErrStopTraining
	}
	return nil
}

// A run checkpoints every 3 steps and dies after 5; a new model picks it
// up from the latest checkpoint and finishes, as if never stopped.
func ExampleModelCheckpoint() {
	x, y := tensor.New(tensor.Float32, 40, 3), tensor.New(tensor.Float32, 40, 2)
	for i := range 40 {
		x.SetIndex(3*i+i%3, 1)
		y.SetIndex(2*i+i%2, 1)
	}
	dir, err := os.MkdirTemp("", "checkpoints")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	m := model.NewSequential(layers.NewDense(8, nn.ActReLU), layers.NewDense(2, nn.ActSoftmax))
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}); err != nil {
		log.Fatal(err)
	}
	ckpt := &model.BackupAndRestore{Dir: dir, EverySteps: 3}
	opts := model.FitOptions{Epochs: 2, BatchSize: 10, Callbacks: []model.Callback{ckpt, &crashAfter{n: 5}}}
	if _, err := m.Fit(context.Background(), x, y, opts); err != nil {
		log.Fatal(err)
	}

	m2, ck, err := model.LatestCheckpoint(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("resuming from %s: epoch %d, step %d\n", filepath.Base(ck.Path), ck.Epoch+1, ck.Step)
	h, err := m2.Fit(context.Background(), x, y, model.FitOptions{Resume: ck})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("epochs in the history:", h.Epochs, "optimizer steps:", m2.Optimizer().Iterations())
	// Output:
	// resuming from ckpt-000000000003.safetensors: epoch 1, step 3
	// epochs in the history: [1 2] optimizer steps: 8
}
