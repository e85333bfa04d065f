package schedules_test

import (
	"fmt"

	"github.com/myelin-go/myelin/optimizers/schedules"
)

// A cosine decay with a linear warmup, as in Keras's documentation: from 0
// up to 0.1 over 1000 steps, then down to 0 over the next 1000.
func ExampleCosineDecay() {
	s := &schedules.CosineDecay{InitialLearningRate: 0, DecaySteps: 1000, WarmupTarget: new(0.1), WarmupSteps: 1000}
	for _, step := range []int{0, 500, 1000, 1500, 2000} {
		fmt.Printf("step %4d: %.3f\n", step, s.Rate(step))
	}
	b, _ := schedules.Marshal(s)
	fmt.Println(string(b))
	// Output:
	// step    0: 0.000
	// step  500: 0.050
	// step 1000: 0.100
	// step 1500: 0.050
	// step 2000: 0.000
	// {"class_name":"CosineDecay","config":{"initial_learning_rate":0,"decay_steps":1000,"alpha":0,"warmup_target":0.1,"warmup_steps":1000}}
}
