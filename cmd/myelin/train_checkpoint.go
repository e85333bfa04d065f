package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/myelin-go/myelin/model"
)

// trainCheckpoint holds train's checkpoint flags: --checkpoint-dir,
// --checkpoint-every, --keep and --resume.
type trainCheckpoint struct {
	dir    *string
	every  *int
	keep   *int
	resume *string

	m    *model.Sequential // the resumed model, nil unless --resume
	arch string            // --arch of the resumed run
	ck   *model.Checkpoint
	mc   *model.BackupAndRestore
}

// resumedFlags are the train flags a checkpoint records and a resumed run
// takes from it. Given on the command line with another value they are an
// error, except those in mayChange.
var resumedFlags = []string{
	"data", "data-dir", "arch", "no-batchnorm", "optimizer", "lr", "seed",
	"batch-size", "validation-split", "epochs", "checkpoint-every", "keep",
	"out", "clipnorm", "clipvalue", "weight-decay", "lr-schedule", "warmup-steps",
	"lr-decay-rate", "early-stopping", "reduce-lr-on-plateau", "csv-log",
}

var mayChange = map[string]bool{"epochs": true, "checkpoint-every": true, "keep": true, "out": true}

// addedLater are the resumed flags that checkpoints written before they
// were recorded lack: such a run had no clipping, and its --out is not
// known, so the flag's value (or default) is used.
var addedLater = map[string]bool{
	"out": true, "clipnorm": true, "clipvalue": true, "weight-decay": true, "lr-schedule": true,
	"warmup-steps": true, "lr-decay-rate": true, "early-stopping": true, "reduce-lr-on-plateau": true,
	"csv-log": true,
}

func checkpointFlags(fs *flag.FlagSet) *trainCheckpoint {
	return &trainCheckpoint{
		dir:    fs.String("checkpoint-dir", "", "save checkpoints to `dir`, to continue later with --resume"),
		every:  fs.Int("checkpoint-every", 0, "save a checkpoint every `n` steps (0: at the end of each epoch)"),
		keep:   fs.Int("keep", 3, "keep the last `k` checkpoints (0: all)"),
		resume: fs.String("resume", "", "continue the run whose checkpoints are in `dir`, from the latest one"),
	}
}

// prepare loads the latest checkpoint for --resume and sets the recorded
// flags from it; an explicit flag that conflicts is a usage error.
func (c *trainCheckpoint) prepare(fs *flag.FlagSet, e *env) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *c.dir == "" && *c.resume == "" {
		for _, name := range []string{"checkpoint-every", "keep"} {
			if set[name] {
				return usagef("--%s applies to checkpoints: give --checkpoint-dir DIR too", name)
			}
		}
	}
	if *c.every < 0 {
		return usagef("--checkpoint-every %d must not be negative", *c.every)
	}
	if *c.keep < 0 {
		return usagef("--keep %d must not be negative", *c.keep)
	}
	if *c.resume == "" {
		return nil
	}
	m, ck, err := model.LatestCheckpoint(*c.resume)
	if err != nil {
		return err
	}
	for _, s := range ck.Skipped {
		fmt.Fprintf(e.stderr, "myelin: skipped checkpoint %s\n", s)
	}
	var conflicts []string
	for _, name := range resumedFlags {
		v, ok := ck.Metadata["flag/"+name]
		if !ok && addedLater[name] {
			continue
		}
		if !ok {
			return fmt.Errorf("%s: not written by myelin train (no flag/%s in its metadata)", ck.Path, name)
		}
		f := fs.Lookup(name)
		if set[name] {
			if !mayChange[name] && f.Value.String() != v {
				conflicts = append(conflicts, fmt.Sprintf("--%s %s (the checkpoint has %s)", name, f.Value, v))
			}
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("%s: flag/%s: %w", ck.Path, name, err)
		}
	}
	if len(conflicts) > 0 {
		return usagef("--resume %s: %s; leave them out to use the checkpoint's", *c.resume, strings.Join(conflicts, ", "))
	}
	if !set["checkpoint-dir"] {
		*c.dir = *c.resume
	}
	// The checkpoint holds the architecture: train need not read --arch
	// again (the file may be gone), only record it in new checkpoints.
	c.arch = fs.Lookup("arch").Value.String()
	fs.Set("arch", "")
	fmt.Fprintf(e.stderr, "Resuming from %s (epoch %d, step %d)\n", ck.Path, ck.Epoch+1, ck.Step)
	c.m, c.ck = m, ck
	return nil
}

// checkEpochs rejects, with --resume, an --epochs that ends before the
// checkpoint's position, saying what would continue the run.
func (c *trainCheckpoint) checkEpochs(epochs int) error {
	if c.ck == nil {
		return nil
	}
	need := c.ck.Epoch // the epochs done; one more if the checkpoint is inside an epoch
	if c.ck.Step > 0 {
		need++
	}
	if epochs < need {
		return usagef("--epochs %d ends before the checkpoint %s (epoch %d, step %d); give --epochs %d or more to continue the run",
			epochs, c.ck.Path, c.ck.Epoch+1, c.ck.Step, max(need, 1))
	}
	return nil
}

// callback returns the BackupAndRestore for --checkpoint-dir, or nil.
func (c *trainCheckpoint) callback(fs *flag.FlagSet) model.Callback {
	if *c.dir == "" {
		return nil
	}
	meta := map[string]string{}
	for _, name := range resumedFlags {
		meta["flag/"+name] = fs.Lookup(name).Value.String()
	}
	if c.m != nil {
		meta["flag/arch"] = c.arch
	}
	keep := *c.keep
	if keep == 0 {
		keep = model.KeepAll // Keep 0 in Go is the default, 3
	}
	c.mc = &model.BackupAndRestore{Dir: *c.dir, EverySteps: *c.every, Keep: keep, Metadata: meta}
	return c.mc
}

// interrupted explains a cancelled Fit: with --checkpoint-dir it saves the
// last complete step and says how to resume.
func (c *trainCheckpoint) interrupted(err error) error {
	if c.mc == nil {
		return fmt.Errorf("interrupted: %v (nothing was saved; with --checkpoint-dir DIR a run can be resumed)", err)
	}
	resume := "myelin train --resume " + shellQuote(*c.dir)
	path, serr := c.mc.Save()
	switch {
	case serr == nil:
		return fmt.Errorf("interrupted: %v\n\tcheckpoint of the last complete step saved to %s\n\tto continue: %s", err, path, resume)
	case c.mc.Last != "":
		return fmt.Errorf("interrupted: %v\n\tsaving a checkpoint failed: %v\n\tthe latest checkpoint is %s; to continue from it: %s", err, serr, c.mc.Last, resume)
	}
	return fmt.Errorf("interrupted: %v\n\tsaving a checkpoint failed: %v", err, serr)
}

// resumed returns what Fit resumes from (nil without --resume).
func (c *trainCheckpoint) resumed() *model.Checkpoint { return c.ck }

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
