// Package callbacks holds Keras 3's training callbacks for model.Fit:
// EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, CSVLogger,
// ModelCheckpoint (Keras's save-best checkpoint of the model file) and
// Lambda (Keras's LambdaCallback), plus LearningRateSchedule, which drives
// an optimizer's rate from a schedules.Schedule.
//
// Names, defaults and decisions are Keras 3's; where this package differs
// the type's documentation says so. The main differences: a monitored
// value missing from the logs is an error (Keras warns and skips), and
// callbacks reset all their state in OnTrainBegin, so one value can serve
// several Fit calls.
//
// # Resuming
//
// Every callback with state implements model.StatefulCallback, so a
// checkpoint written by model.BackupAndRestore
// carries it and a resumed Fit ends bit for bit as an uninterrupted one:
// early stopping's counters and best weights, the plateau counters, the
// epoch whose rate LearningRateScheduler set, the CSV file's length.
// Callbacks save their state after their own OnEpochEnd, so list
// model.BackupAndRestore after them in FitOptions.Callbacks: a checkpoint
// written at an epoch's end before they had seen it would miss that
// epoch, and the resumed Fit reports the misordering as an error.
//
// # Monitors and modes
//
// Monitor names a key of the epoch's logs ("val_loss", "accuracy", ...).
// Mode is "min", "max", or "auto" (or ""), which maximizes names whose
// part after "val_" contains "acc" or "auc" and minimizes the rest.
//
// # The learning rate in the logs
//
// Keras 3's ReduceLROnPlateau and LearningRateScheduler add
// "learning_rate" to each epoch's logs. Here the callbacks that set the
// rate implement AddEpochLogs(epoch, logs) for Fit to call before the
// History records an epoch.
package callbacks

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/myelin-go/myelin/model"
)

// LearningRateKey is the logs key of the learning rate, Keras 3's name.
const LearningRateKey = "learning_rate"

// monitorOp reports whether larger values of monitor are better, from
// mode ("min", "max", "auto" or "").
func monitorOp(callback, monitor, mode string) (greater bool, err error) {
	switch mode {
	case "min":
		return false, nil
	case "max":
		return true, nil
	case "", "auto":
		name := strings.TrimPrefix(monitor, "val_")
		return strings.Contains(name, "acc") || strings.Contains(name, "auc"), nil
	}
	return false, fmt.Errorf("callbacks: %s: mode %q; want \"auto\", \"min\" or \"max\"", callback, mode)
}

// monitorValue returns logs[monitor] at the end of epoch. ok is false,
// with no error, for a validation value at an epoch that m's Fit does not
// validate (FitOptions.ValidationFreq), which is skipped as Keras skips it;
// any other missing key is an error that lists the keys. m may be nil.
func monitorValue(callback, monitor string, logs model.Logs, m *model.Sequential, epoch int) (v float64, ok bool, err error) {
	v, ok = logs[monitor]
	if ok {
		return v, true, nil
	}
	if m != nil && strings.HasPrefix(monitor, "val_") {
		if has, at := m.Validates(epoch); has && !at {
			return 0, false, nil
		}
	}
	keys := slices.Sorted(maps.Keys(logs))
	return 0, false, fmt.Errorf("callbacks: %s: monitor %q is not in the logs (they hold %s); validation values need validation data",
		callback, monitor, strings.Join(keys, ", "))
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// epochGuard remembers the epoch a callback expects to begin next, so that
// after a resume it can tell whether the checkpoint holds its state from
// before or after the epoch Fit continues with.
type epochGuard struct {
	next    int  // the epoch after the last one whose end was seen
	resumed bool // a checkpoint state was restored; check at the next OnEpochBegin
}

// ended records the end of epoch.
func (g *epochGuard) ended(epoch int) { g.next = epoch + 1 }

// begin checks, on the first epoch after a resume, that Fit continues at
// the epoch the callback's state is at.
func (g *epochGuard) begin(callback string, epoch int) error {
	if !g.resumed {
		return nil
	}
	g.resumed = false
	if epoch != g.next {
		return fmt.Errorf("callbacks: %s: the checkpoint holds this callback's state as of epoch %d, but Fit resumes at epoch %d: "+
			"list model.BackupAndRestore after %s in FitOptions.Callbacks so that it saves the callback's state after the callback has seen the epoch's end",
			callback, g.next+1, epoch+1, callback)
	}
	return nil
}

// exact formats x so that parsing it gives back the same bits, ±Inf and
// NaN included (JSON numbers cannot hold them).
func exact(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// parseExact parses what exact wrote.
func parseExact(field, s string) (float64, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return x, nil
}

// encodeState returns v's JSON, preceded by its length, followed by tail
// (raw bytes such as saved weights, kept out of the JSON).
func encodeState(v any, tail []byte) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(j)+len(tail)), uint64(len(j)))
	b = append(b, j...)
	return append(b, tail...), nil
}

// decodeState parses what encodeState wrote into v, strictly, and returns
// the tail.
func decodeState(b []byte, v any) (tail []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, errors.New("truncated state")
	}
	j := b[k : k+int(n)]
	d := json.NewDecoder(strings.NewReader(string(j)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return nil, err
	}
	return b[k+int(n):], nil
}

// checkRate reports an error unless lr can be a learning rate.
func checkRate(callback string, lr float64) error {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("callbacks: %s: learning rate %g is not a finite number ≥ 0", callback, lr)
	}
	return nil
}

// The callbacks with state save it in checkpoints.
var (
	_ model.StatefulCallback = (*EarlyStopping)(nil)
	_ model.StatefulCallback = (*ReduceLROnPlateau)(nil)
	_ model.StatefulCallback = (*LearningRateScheduler)(nil)
	_ model.StatefulCallback = (*CSVLogger)(nil)
	_ model.StatefulCallback = (*ModelCheckpoint)(nil)
	_ model.Callback         = (*Lambda)(nil)
	_ model.Callback         = (*LearningRateSchedule)(nil)
)
