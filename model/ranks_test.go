package model_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/reduce"
)

// fitRanks runs Fit on n in-process ranks (reduce.NewPeers), each with
// its own model from mk, and returns the models and histories.
func fitRanks(t *testing.T, n int, mk func() *model.Sequential, fit func(m *model.Sequential, g reduce.Ranks) (*model.History, error)) ([]*model.Sequential, []*model.History) {
	t.Helper()
	peers := reduce.NewPeers(n)
	ms := make([]*model.Sequential, n)
	hs := make([]*model.History, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r := range n {
		ms[r] = mk()
		wg.Add(1)
		go func() {
			defer wg.Done()
			hs[r], errs[r] = fit(ms[r], peers[r])
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%d ranks did not finish Fit within 5 minutes", n)
	}
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	return ms, hs
}

// TestRanksMatchShards: N ranks, each training its part of every batch,
// end with the same bits on every rank, and the bits of one process that
// trains with ShardSize B/N (the same cuts, dropout seeds and sums), with
// the same History.
func TestRanksMatchShards(t *testing.T) {
	x, y, _, _ := data(t, 320, 1)
	mk := func() *model.Sequential {
		m := founding(true)
		m.Layers = append(m.Layers[:1], append([]layers.Layer{layers.NewDropout(0.2)}, m.Layers[1:]...)...)
		m = compiled(t, m)
		m.Seed = 11
		return m
	}
	opts := model.FitOptions{Epochs: 2, BatchSize: 32, ValidationSplit: 0.2}
	for _, n := range []int{2, 4} {
		t.Run(fmt.Sprint(n, " ranks"), func(t *testing.T) {
			one := mk()
			o := opts
			o.ShardSize = 32 / n
			hOne, err := one.Fit(context.Background(), x, y, o)
			if err != nil {
				t.Fatal(err)
			}
			want := stateHash(t, one)
			steps := make([]*stepHashes, n)
			ms, hs := fitRanks(t, n, mk, func(m *model.Sequential, g reduce.Ranks) (*model.History, error) {
				o := opts
				o.Ranks = g
				steps[g.Rank()] = &stepHashes{m: m}
				o.Callbacks = []model.Callback{steps[g.Rank()]}
				return m.Fit(context.Background(), x, y, o)
			})
			for r := 1; r < n; r++ {
				if !slices.Equal(steps[r].sums, steps[0].sums) || len(steps[0].sums) != 16 {
					t.Fatalf("rank %d: per-step weight hashes differ from rank 0's (%d and %d steps)", r, len(steps[r].sums), len(steps[0].sums))
				}
			}
			for r, m := range ms {
				if got := stateHash(t, m); got != want {
					t.Errorf("rank %d: state %s, one process with ShardSize %d: %s", r, got, 32/n, want)
				}
				if d := ckSameHistory(hs[r], hOne); d != "" {
					t.Errorf("rank %d: history: %s", r, d)
				}
			}
		})
	}
}

// TestRanksResume: a distributed run stopped part way, checkpointed by
// rank 0 and resumed by every rank from that file, ends as the
// uninterrupted run; resuming on another number of ranks is refused.
func TestRanksResume(t *testing.T) {
	x, y, _, _ := data(t, 256, 1)
	mk := func() *model.Sequential { m := compiled(t, founding(true)); m.Seed = 4; return m }
	opts := model.FitOptions{Epochs: 2, BatchSize: 32}
	ref, _ := fitRanks(t, 2, mk, func(m *model.Sequential, g reduce.Ranks) (*model.History, error) {
		o := opts
		o.Ranks = g
		return m.Fit(context.Background(), x, y, o)
	})
	want := stateHash(t, ref[0])
	path := t.TempDir() + "/ck.safetensors"
	fitRanks(t, 2, mk, func(m *model.Sequential, g reduce.Ranks) (*model.History, error) {
		o := opts
		o.Ranks = g
		o.Callbacks = []model.Callback{&ckStopAt{at: 11}}
		h, err := m.Fit(context.Background(), x, y, o)
		if err == nil && g.Rank() == 0 {
			err = m.SaveCheckpoint(path, nil)
		}
		return h, err
	})
	fitRanks(t, 2, mk, func(_ *model.Sequential, g reduce.Ranks) (*model.History, error) {
		m, ck, err := model.LoadCheckpoint(path)
		if err != nil {
			return nil, err
		}
		o := opts
		o.Ranks, o.Resume = g, ck
		h, err := m.Fit(context.Background(), x, y, o)
		if err == nil {
			if s := stateHash(t, m); s != want {
				err = fmt.Errorf("resumed state %s, uninterrupted %s", s, want)
			}
		}
		return h, err
	})
	m, ck, err := model.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	o := opts
	o.Resume = ck
	if _, err := m.Fit(context.Background(), x, y, o); err == nil || !strings.Contains(err.Error(), "1 ranks (the checkpoint has 2)") {
		t.Fatalf("resuming a 2-rank checkpoint in one process: err = %v", err)
	}
}

func TestRanksErrors(t *testing.T) {
	x, y, _, _ := data(t, 100, 1)
	// 98 samples in batches of 32 leave 2 rows for 4 ranks.
	x, y = x.Rows(0, 98), y.Rows(0, 98)
	for _, tc := range []struct {
		opt  model.FitOptions
		want string
	}{
		{model.FitOptions{BatchSize: 32, ShardSize: 8}, "ShardSize 8 with 4 Ranks"},
		{model.FitOptions{BatchSize: 2}, "every batch needs a row for each rank"},
		{model.FitOptions{BatchSize: 32}, "every batch needs a row for each rank"},
	} {
		peers := reduce.NewPeers(4)
		tc.opt.Ranks = peers[0]
		m := compiled(t, founding(true))
		if _, err := m.Fit(context.Background(), x, y, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.opt, err, tc.want)
		}
	}
}

// TestRanksBatchNormPerRank: with each rank's own batch statistics, the
// trained weights are still identical on every rank (the gradients are
// summed), the moving statistics are each rank's own, and the result
// differs from synchronized batch norm.
func TestRanksBatchNormPerRank(t *testing.T) {
	x, y, _, _ := data(t, 256, 1)
	mk := func() *model.Sequential { m := compiled(t, founding(true)); m.Seed = 6; return m }
	run := func(perRank bool) []*model.Sequential {
		ms, _ := fitRanks(t, 2, mk, func(m *model.Sequential, g reduce.Ranks) (*model.History, error) {
			return m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 32, Ranks: g, BatchNormPerRank: perRank})
		})
		return ms
	}
	per, synced := run(true), run(false)
	differs := false
	for i, l := range per[0].Layers {
		for j, w := range l.Weights() {
			a, b := w.Value.Float32s(), per[1].Layers[i].Weights()[j].Value.Float32s()
			same := slices.Equal(a, b)
			if w.Param != nil && !same {
				t.Errorf("%s/%s differs between the ranks", l.Name(), w.Name)
			}
			if w.Param == nil && !same {
				differs = true // a moving statistic
			}
		}
	}
	if !differs {
		t.Error("the ranks' moving statistics are identical: they should be each rank's own")
	}
	if stateHash(t, per[0]) == stateHash(t, synced[0]) {
		t.Error("per-rank batch norm trained the same weights as synchronized batch norm")
	}
}

// stepHashes records a hash of the model's weights and state after every
// step: the ranks' must agree at each one, not only at the end.
type stepHashes struct {
	model.BaseCallback
	m    *model.Sequential
	sums []uint64
}

func (c *stepHashes) OnBatchEnd(_, _ int, _ model.Logs) error {
	h := fnv.New64a()
	for _, l := range c.m.Layers {
		for _, w := range l.Weights() {
			for _, v := range w.Value.Float32s() {
				binary.Write(h, binary.LittleEndian, math.Float32bits(v))
			}
		}
	}
	c.sums = append(c.sums, h.Sum64())
	return nil
}
