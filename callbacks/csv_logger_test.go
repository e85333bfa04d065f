package callbacks_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/callbacks"
	"github.com/myelin-go/myelin/model"
)

// readCSV parses the file at path with separator sep.
func readCSV(t *testing.T, path string, sep rune) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(string(b)))
	r.Comma = sep
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	return rows
}

// checkRows checks that rows hold one header and, per epoch of h, the
// 0-based epoch and each History value, bit for bit.
func checkRows(t *testing.T, rows [][]string, h *model.History, firstEpoch int) {
	t.Helper()
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range h.Metrics {
			if !yield(k) {
				return
			}
		}
	})
	if want := append([]string{"epoch"}, keys...); !slices.Equal(rows[0], want) {
		t.Fatalf("header %v, want %v", rows[0], want)
	}
	if len(rows) != len(h.Epochs)+1 {
		t.Fatalf("%d rows after the header, want one per epoch: %d", len(rows)-1, len(h.Epochs))
	}
	for i, row := range rows[1:] {
		if row[0] != strconv.Itoa(firstEpoch+i) {
			t.Errorf("row %d: epoch %q, want %d", i+1, row[0], firstEpoch+i)
		}
		for j, k := range keys {
			v, err := strconv.ParseFloat(row[j+1], 64)
			if err != nil || v != h.Metrics[k][i] {
				t.Errorf("row %d, %s: %q, want %v", i+1, k, row[j+1], h.Metrics[k][i])
			}
		}
	}
}

func TestCSVLogger(t *testing.T) {
	x, y := toyData(100)
	path := filepath.Join(t.TempDir(), "log.csv")
	if err := os.WriteFile(path, []byte("left from before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := toyModel(t)
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 3, BatchSize: 20, ValidationSplit: 0.2,
		Callbacks: []model.Callback{&callbacks.CSVLogger{Path: path}}})
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, readCSV(t, path, ','), h, 0)

	// Append: a second run adds rows without a second header, epochs
	// counted from 0 again, as in Keras.
	h2, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 20, ValidationSplit: 0.2,
		Callbacks: []model.Callback{&callbacks.CSVLogger{Path: path, Append: true}}})
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, path, ',')
	if len(rows) != 1+3+2 {
		t.Fatalf("after appending 2 epochs to 3: %d lines, want 6:\n%v", len(rows), rows)
	}
	checkRows(t, append(rows[:1:1], rows[4:]...), h2, 0)

	// Append to a missing file writes the header; a separator is used.
	path2 := filepath.Join(t.TempDir(), "new.tsv")
	h3, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 20,
		Callbacks: []model.Callback{&callbacks.CSVLogger{Path: path2, Append: true, Separator: "\t"}}})
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, readCSV(t, path2, '\t'), h3, 0)
}

func TestCSVLoggerMissingKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	c := &callbacks.CSVLogger{Path: path}
	if err := c.OnTrainBegin(nil); err != nil {
		t.Fatal(err)
	}
	for e, logs := range []model.Logs{{"loss": 0.5, "val_loss": 0.25}, {"loss": 0.125, "extra": 1}} {
		if err := c.OnEpochBegin(e); err != nil {
			t.Fatal(err)
		}
		if err := c.OnEpochEnd(e, logs); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(path)
	if want := "epoch,loss,val_loss\n0,0.5,0.25\n1,0.125,NA\n"; string(b) != want {
		t.Errorf("file:\n%s\nwant:\n%s", b, want)
	}
	for _, bad := range []*callbacks.CSVLogger{{}, {Path: path, Separator: `"`}} {
		if err := bad.OnTrainBegin(nil); err == nil {
			t.Errorf("%+v: OnTrainBegin accepted it", bad)
		}
	}
}

// TestModelCheckpointSaveBest saves only on improvement, with the epoch
// and a log value in the name, and the last file saved holds the best
// epoch's model.
func TestModelCheckpointSaveBest(t *testing.T) {
	x, y := toyData(100)
	dir := t.TempDir()
	m := toyModel(t)
	var seen []string
	rec := &callbacks.Lambda{EpochEnd: func(int, model.Logs) error { seen = append(seen, weightsHash(m)); return nil }}
	mc := &callbacks.ModelCheckpoint{Path: filepath.Join(dir, "m-{epoch:02d}-{val_loss:.2f}.safetensors"), SaveBestOnly: true}
	best := &callbacks.ModelCheckpoint{Path: filepath.Join(dir, "best.safetensors"), SaveBestOnly: true}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 5, BatchSize: 20, ValidationSplit: 0.2,
		Callbacks: []model.Callback{script("val_loss", 0.9, 0.5, 0.7, 0.4, 0.4), rec, mc, best}}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "m-*"))
	for i := range files {
		files[i] = filepath.Base(files[i])
	}
	want := []string{"m-01-0.90.safetensors", "m-02-0.50.safetensors", "m-04-0.40.safetensors"}
	if !slices.Equal(files, want) {
		t.Errorf("saved %v, want %v", files, want)
	}
	loaded, err := model.Load(best.Last)
	if err != nil {
		t.Fatal(err)
	}
	if got := weightsHash(loaded); got != seen[3] || seen[3] == seen[4] {
		t.Errorf("best file holds weights %s, want epoch index 3's %s (last epoch's %s)", got[:12], seen[3][:12], seen[4][:12])
	}

	// Without SaveBestOnly every epoch is saved; a bad format is refused.
	every := &callbacks.ModelCheckpoint{Path: filepath.Join(dir, "e{epoch}.safetensors")}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 20, Callbacks: []model.Callback{every}}); err != nil {
		t.Fatal(err)
	}
	if every.Last != filepath.Join(dir, "e2.safetensors") {
		t.Errorf("last saved %q, want e2.safetensors", every.Last)
	}
	for _, p := range []string{"x-{epoch:x}.safetensors", "x-{nosuch}.safetensors"} {
		bad := &callbacks.ModelCheckpoint{Path: filepath.Join(dir, p)}
		if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Callbacks: []model.Callback{bad}}); err == nil {
			t.Errorf("path %q: Fit succeeded, want an error", p)
		}
	}
}

func TestLambdaCallsEachFunction(t *testing.T) {
	x, y := toyData(40)
	m := toyModel(t)
	var calls []string
	l := &callbacks.Lambda{
		TrainBegin: func(got *model.Sequential) error {
			if got != m {
				t.Error("TrainBegin got another model")
			}
			calls = append(calls, "train-begin")
			return nil
		},
		EpochBegin: func(e int) error { calls = append(calls, "epoch-begin "+strconv.Itoa(e)); return nil },
		BatchEnd: func(e, s int, logs model.Logs) error {
			calls = append(calls, "batch-end "+strconv.Itoa(e)+"/"+strconv.Itoa(s))
			return nil
		},
		EpochEnd: func(e int, logs model.Logs) error {
			calls = append(calls, "epoch-end "+strconv.Itoa(e))
			if e == 1 {
				return model.ErrStopTraining
			}
			return nil
		},
		TrainEnd: func(logs model.Logs) error { calls = append(calls, "train-end"); return nil },
	}
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 5, BatchSize: 20, Callbacks: []model.Callback{l, &callbacks.Lambda{}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "train-begin,epoch-begin 0,batch-end 0/1,batch-end 0/2,epoch-end 0,epoch-begin 1,batch-end 1/1,batch-end 1/2,epoch-end 1,train-end"
	if got := strings.Join(calls, ","); got != want || len(h.Epochs) != 2 {
		t.Errorf("calls %s, %d epochs; want %s, 2 epochs", got, len(h.Epochs), want)
	}
}
