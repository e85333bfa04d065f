package callbacks_test

import (
	"strings"
	"testing"

	"github.com/myelin-go/myelin/callbacks"
	"github.com/myelin-go/myelin/model"
)

// TestStateRejectsGarbage: a state that does not parse, or does not fit
// the model, is an error naming the callback, not a silent reset.
func TestStateRejectsGarbage(t *testing.T) {
	m := toyModel(t)
	for _, c := range []struct {
		cb   model.StatefulCallback
		name string
	}{
		{&callbacks.EarlyStopping{RestoreBestWeights: true}, "EarlyStopping"},
		{callbacks.NewReduceLROnPlateau(), "ReduceLROnPlateau"},
		{callbacks.NewLearningRateScheduler(func(_ int, lr float64) float64 { return lr }), "LearningRateScheduler"},
		{&callbacks.CSVLogger{Path: t.TempDir() + "/x.csv"}, "CSVLogger"},
		{&callbacks.ModelCheckpoint{Path: t.TempDir() + "/m.safetensors"}, "ModelCheckpoint"},
	} {
		if err := c.cb.OnTrainBegin(m); err != nil {
			t.Fatal(err)
		}
		good, err := c.cb.CheckpointState()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.cb.RestoreCheckpointState(good); err != nil {
			t.Errorf("%s: restoring its own state: %v", c.name, err)
		}
		for _, bad := range [][]byte{nil, []byte("\x05{}"), append([]byte{11}, `{"bogus":1}`...)} {
			if err := c.cb.RestoreCheckpointState(bad); err == nil || !strings.HasPrefix(err.Error(), "callbacks: "+c.name+": ") {
				t.Errorf("%s: RestoreCheckpointState(%q) = %v, want an error naming it", c.name, bad, err)
			}
		}
	}
	// Best weights saved for another model do not fit this one.
	es := &callbacks.EarlyStopping{RestoreBestWeights: true, Monitor: "loss"}
	if err := es.OnTrainBegin(m); err != nil {
		t.Fatal(err)
	}
	if err := es.OnEpochEnd(0, model.Logs{"loss": 1}); err != nil {
		t.Fatal(err)
	}
	b, err := es.CheckpointState()
	if err != nil {
		t.Fatal(err)
	}
	if err := es.RestoreCheckpointState(b[:len(b)-4]); err == nil || !strings.Contains(err.Error(), "saved weights hold") {
		t.Errorf("short weights: %v, want an error about their size", err)
	}
}
