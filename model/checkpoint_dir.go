package model

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A checkpoint directory: BackupAndRestore's file names, and the scan that
// finds the newest usable checkpoint in it.

// CheckpointName returns the file name BackupAndRestore gives the
// checkpoint after globalStep steps; names sort in step order.
func CheckpointName(globalStep int) string { return fmt.Sprintf("ckpt-%012d.safetensors", globalStep) }

// checkpointStep parses a CheckpointName.
func checkpointStep(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "ckpt-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".safetensors")
	if !ok || s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// checkpointFiles lists the checkpoints in dir, newest (highest step) first.
func checkpointFiles(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	type named struct {
		step int
		name string
	}
	var ns []named
	for _, e := range es {
		if n, ok := checkpointStep(e.Name()); ok && e.Type().IsRegular() {
			ns = append(ns, named{n, e.Name()})
		}
	}
	slices.SortFunc(ns, func(a, b named) int { return b.step - a.step })
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = filepath.Join(dir, n.name)
	}
	return out, nil
}

// LatestCheckpoint loads the newest checkpoint in dir that loads and holds
// only finite values, skipping (and listing in Checkpoint.Skipped) newer
// ones that are truncated, corrupt or otherwise unusable. Leftover
// temporaries of an interrupted write are ignored.
func LatestCheckpoint(dir string) (*Sequential, *Checkpoint, error) {
	files, err := checkpointFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	var skipped []string
	for _, p := range files {
		m, ck, err := LoadCheckpoint(p)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", filepath.Base(p), err))
			continue
		}
		ck.Skipped = skipped
		return m, ck, nil
	}
	if len(skipped) > 0 {
		return nil, nil, fmt.Errorf("model: no usable checkpoint in %s:\n\t%s", dir, strings.Join(skipped, "\n\t"))
	}
	return nil, nil, fmt.Errorf("model: no checkpoint (%s) in %s", CheckpointName(0)[:5]+"*.safetensors", dir)
}
