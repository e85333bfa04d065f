package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/myelin-go/myelin/internal/atomicfile"
)

// KeepAll, as BackupAndRestore.Keep, keeps every checkpoint. (The CLI's
// --keep 0 means this.)
const KeepAll = -1

// ModelCheckpoint is the former name of BackupAndRestore.
//
// Deprecated: use BackupAndRestore; for Keras's ModelCheckpoint (save the
// best model) use callbacks.ModelCheckpoint.
type ModelCheckpoint = BackupAndRestore

// BackupAndRestore is a callback that saves checkpoints of the run into
// Dir, named by global step (CheckpointName), for LatestCheckpoint and
// FitOptions.Resume to continue from. Each is written atomically, and the
// oldest are removed only once the new one is safely on disk, so a crash
// at any moment leaves the last complete checkpoint loadable. Leftover
// temporaries of a crashed writer are removed when training begins; a
// directory should therefore be used by one run at a time.
//
// Keras calls this BackupAndRestore; Keras's ModelCheckpoint, which saves
// the model when a monitored value improves, is callbacks.ModelCheckpoint.
// List it after the callbacks whose state it saves (EarlyStopping, ...), so
// that an epoch-end checkpoint holds their state after that epoch.
type BackupAndRestore struct {
	BaseCallback
	Dir string
	// EverySteps > 0 saves after every EverySteps-th step of the run
	// (counted across epochs); 0 saves at the end of each epoch.
	EverySteps int
	// Keep is how many checkpoints to keep: 0 means the default, 3 (the
	// zero value of an option means its default, as in FitOptions), and
	// KeepAll (any negative value) keeps every one.
	Keep int
	// Metadata is stored in each checkpoint (Checkpoint.Metadata).
	Metadata map[string]string
	// Last is the path of the newest checkpoint written.
	Last string

	m *Sequential
}

// OnTrainBegin creates Dir and removes leftover temporaries in it.
func (c *BackupAndRestore) OnTrainBegin(m *Sequential) error {
	if c.Dir == "" {
		return errors.New("model: BackupAndRestore: Dir is empty")
	}
	if c.EverySteps < 0 {
		return fmt.Errorf("model: BackupAndRestore: EverySteps %d is negative", c.EverySteps)
	}
	c.m = m
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("model: BackupAndRestore: %w", err)
	}
	if _, err := atomicfile.CleanTemps(c.Dir); err != nil {
		return fmt.Errorf("model: BackupAndRestore: %w", err)
	}
	return nil
}

// OnBatchEnd saves every EverySteps steps.
func (c *BackupAndRestore) OnBatchEnd(epoch, step int, logs Logs) error {
	if c.EverySteps > 0 && c.globalStep()%c.EverySteps == 0 {
		_, err := c.Save()
		return err
	}
	return nil
}

// OnEpochEnd saves when EverySteps is 0.
func (c *BackupAndRestore) OnEpochEnd(epoch int, logs Logs) error {
	if c.EverySteps == 0 {
		_, err := c.Save()
		return err
	}
	return nil
}

func (c *BackupAndRestore) globalStep() int {
	run := &c.m.fit.run
	return run.epoch*run.steps + run.step
}

// Save writes a checkpoint of the model's position now (for instance
// after Fit was cancelled), removes the oldest beyond Keep, and returns
// its path.
func (c *BackupAndRestore) Save() (string, error) {
	if c.m == nil {
		return "", errors.New("model: BackupAndRestore: Save before training began")
	}
	path := filepath.Join(c.Dir, CheckpointName(c.globalStep()))
	if err := c.m.SaveCheckpoint(path, c.Metadata); err != nil {
		return "", err
	}
	c.Last = path
	keep := c.Keep
	if keep == 0 {
		keep = 3
	}
	if keep < 0 {
		return path, nil
	}
	files, err := checkpointFiles(c.Dir)
	if err != nil {
		return path, err
	}
	kept := 1 // the new one, always
	for _, p := range files {
		if p == path {
			continue
		}
		if kept < keep {
			kept++
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return path, fmt.Errorf("model: BackupAndRestore: %w", err)
		}
	}
	return path, nil
}
