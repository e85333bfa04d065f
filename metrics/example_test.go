package metrics_test

import (
	"fmt"

	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/tensor"
)

// Accuracy over an epoch of two batches, weighted by batch size, with the
// epoch's mean loss beside it.
func Example() {
	acc, loss := metrics.NewAccuracy(), metrics.NewMean("loss")
	batches := []struct {
		probs, labels []float64
		loss          float64
	}{
		{[]float64{0.8, 0.2, 0.3, 0.7, 0.6, 0.4}, []float64{0, 1, 1}, 0.4}, // 2 of 3 right
		{[]float64{0.1, 0.9}, []float64{1}, 0.1},                           // 1 of 1 right
	}
	for _, b := range batches {
		n := len(b.labels)
		probs := tensor.FromFloat64(b.probs, n, 2)
		labels := tensor.FromFloat64(b.labels, n) // class indices: sparse
		if err := acc.Update(probs, labels); err != nil {
			fmt.Println(err)
			return
		}
		loss.Add(b.loss, float64(n))
	}
	fmt.Printf("%s: %.4f - %s: %.4f\n", acc.Name(), acc.Result(), loss.Name(), loss.Result())

	err := acc.Update(tensor.New(tensor.Float32, 4, 2), tensor.New(tensor.Float32, 4, 3))
	fmt.Println(err)
	// Output:
	// accuracy: 0.7500 - loss: 0.3250
	// metrics: accuracy: prediction shape (4, 2) and target shape (4, 3) do not fit: want equal shapes (..., classes) with at least one class
}

// AUC counts at Keras's 200 thresholds and sums trapezoids under the ROC
// curve; these scores rank every positive above every negative.
func ExampleAUC() {
	m := metrics.NewAUC()
	pred := tensor.FromFloat64([]float64{0.1, 0.8, 0.35, 0.6}, 4)
	target := tensor.FromFloat64([]float64{0, 1, 0, 1}, 4)
	if err := m.Update(pred, target); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %.3f\n", m.Name(), m.Result())
	// Output: auc 1.000
}
