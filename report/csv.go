package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/myelin-go/myelin/internal/atomicfile"
	"github.com/myelin-go/myelin/model"
)

// historyTable is metrics.csv: a header "epoch", then the metric names,
// and one row per epoch. A metric missing at an epoch is an empty cell.
func historyTable(h model.History) [][]string {
	names := metricNames(h.Metrics)
	rows := [][]string{append([]string{"epoch"}, names...)}
	for i, e := range h.Epochs {
		row := []string{strconv.Itoa(e)}
		for _, k := range names {
			cell := ""
			if v := h.Metrics[k]; i < len(v) {
				cell = csvFloat(v[i])
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	return rows
}

// stepsTable is steps.csv: "step", "epoch", then every log name seen.
func stepsTable(steps []StepLog) [][]string {
	seen := map[string]bool{}
	for _, s := range steps {
		for k := range s.Logs {
			seen[k] = true
		}
	}
	names := metricNames(seen)
	rows := [][]string{append([]string{"step", "epoch"}, names...)}
	for _, s := range steps {
		row := []string{strconv.Itoa(s.Step), strconv.Itoa(s.Epoch)}
		for _, k := range names {
			cell := ""
			if v, ok := s.Logs[k]; ok {
				cell = csvFloat(v)
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	return rows
}

// csvFloat writes v with the fewest digits that read back exactly;
// strconv.ParseFloat reads every output, NaN and ±Inf included.
func csvFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func writeCSV(path string, rows [][]string) error {
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.WriteAll(rows); err != nil {
			return fmt.Errorf("report: writing %s: %w", path, err)
		}
		return nil
	})
}

func writeFile(path string, b []byte) error {
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
