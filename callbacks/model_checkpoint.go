package callbacks

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/myelin-go/myelin/model"
)

// ModelCheckpoint saves the model file (model.Sequential.Save: the
// architecture and every weight, loadable by model.Load) at the end of
// epochs, Keras 3's ModelCheckpoint with save_freq "epoch". With
// SaveBestOnly it saves only when the monitored value is better than the
// best so far (strictly; Keras has no min_delta here), so the file holds
// the best model.
//
// This is not model.BackupAndRestore, which saves the whole training
// position for resuming, Keras's BackupAndRestore.
//
// Path may hold Python-style fields, as Keras's filepath does: {epoch}
// (1-based), or a key of the logs such as {val_loss}, each with an
// optional format: "weights.{epoch:02d}-{val_loss:.2f}.safetensors".
// The formats are d, 0Nd, .Nf, .Ne and .Ng.
type ModelCheckpoint struct {
	model.BaseCallback
	Path         string
	Monitor      string // logs key; "" means "val_loss"
	SaveBestOnly bool
	Mode         string // "auto" (or ""), "min" or "max"
	// InitialValueThreshold, when set, is the value the first save must
	// beat with SaveBestOnly (Keras's initial_value_threshold).
	InitialValueThreshold *float64

	// Last is the path of the last file saved.
	Last string

	m       *model.Sequential
	greater bool
	best    float64
	guard   epochGuard
}

// OnTrainBegin checks the settings and resets the best value.
func (c *ModelCheckpoint) OnTrainBegin(m *model.Sequential) error {
	if c.Path == "" {
		return errors.New("callbacks: ModelCheckpoint: Path is empty")
	}
	if _, err := formatPath(c.Path, 0, model.Logs{"val_loss": 0, "loss": 0}, true); err != nil {
		return err
	}
	g, err := monitorOp("ModelCheckpoint", c.monitor(), c.Mode)
	if err != nil {
		return err
	}
	c.m, c.greater, c.Last, c.guard = m, g, "", epochGuard{}
	c.best = math.Inf(1)
	if g {
		c.best = math.Inf(-1)
	}
	if c.InitialValueThreshold != nil {
		c.best = *c.InitialValueThreshold
	}
	return nil
}

func (c *ModelCheckpoint) monitor() string { return orDefault(c.Monitor, "val_loss") }

// OnEpochBegin checks, after a resume, that the state matches the epoch.
func (c *ModelCheckpoint) OnEpochBegin(epoch int) error {
	return c.guard.begin("ModelCheckpoint", epoch)
}

// OnEpochEnd saves the model, or with SaveBestOnly saves it when the
// monitored value improved.
func (c *ModelCheckpoint) OnEpochEnd(epoch int, logs model.Logs) error {
	c.guard.ended(epoch)
	if c.SaveBestOnly {
		v, ok, err := monitorValue("ModelCheckpoint", c.monitor(), logs, c.m, epoch)
		if err != nil || !ok {
			return err // !ok: an epoch without validation, skipped
		}
		if !(c.greater && v > c.best || !c.greater && v < c.best) {
			return nil
		}
		c.best = v
	}
	path, err := formatPath(c.Path, epoch, logs, false)
	if err != nil {
		return err
	}
	if err := c.m.Save(path); err != nil {
		return fmt.Errorf("callbacks: ModelCheckpoint: %w", err)
	}
	c.Last = path
	return nil
}

var pathField = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]*))?\}`)
var pathFormat = regexp.MustCompile(`^(0?[0-9]*d|\.[0-9]+[efg])?$`)

// formatPath fills the {name:format} fields of p from the 1-based epoch
// and logs. With check, a key missing from logs is not an error (the
// logs are not known yet).
func formatPath(p string, epoch int, logs model.Logs, check bool) (string, error) {
	var err error
	out := pathField.ReplaceAllStringFunc(p, func(f string) string {
		m := pathField.FindStringSubmatch(f)
		name, spec := m[1], m[2]
		if !pathFormat.MatchString(spec) && err == nil {
			err = fmt.Errorf("callbacks: ModelCheckpoint: path %q: format %q of {%s}; want d, 0Nd, .Nf, .Ne or .Ng", p, spec, name)
			return f
		}
		var v float64
		if name == "epoch" {
			v = float64(epoch + 1)
		} else if x, ok := logs[name]; ok {
			v = x
		} else if !check && err == nil {
			err = fmt.Errorf("callbacks: ModelCheckpoint: path %q: no %q in the logs", p, name)
			return f
		}
		switch {
		case strings.HasSuffix(spec, "d"):
			return fmt.Sprintf("%"+spec, int64(v))
		case spec != "":
			return fmt.Sprintf("%"+spec, v)
		case name == "epoch":
			return strconv.Itoa(epoch + 1)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	})
	return out, err
}

type checkpointState struct {
	Best      string `json:"best"`
	NextEpoch int    `json:"next_epoch"`
}

// CheckpointState returns the best value so far.
func (c *ModelCheckpoint) CheckpointState() ([]byte, error) {
	return encodeState(checkpointState{Best: exact(c.best), NextEpoch: c.guard.next}, nil)
}

// RestoreCheckpointState restores what CheckpointState saved.
func (c *ModelCheckpoint) RestoreCheckpointState(b []byte) error {
	var st checkpointState
	if _, err := decodeState(b, &st); err != nil {
		return fmt.Errorf("callbacks: ModelCheckpoint: %w", err)
	}
	best, err := parseExact("best", st.Best)
	if err != nil {
		return fmt.Errorf("callbacks: ModelCheckpoint: %w", err)
	}
	c.best = best
	c.guard = epochGuard{next: st.NextEpoch, resumed: true}
	return nil
}
