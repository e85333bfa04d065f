package experiment

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/myelin-go/myelin/report"
)

// WriteReport writes r into dir with report.Write — index.html, each chart
// as NAME.png and NAME.svg, the table as table.csv — and the raw
// measurements as result.json.
func (r *Result) WriteReport(dir string) error {
	run := report.Run{
		Title:  r.Title,
		Notes:  r.Notes,
		Charts: r.Charts,
		Tables: []report.Table{{Title: "results", Header: r.Table.Header, Rows: r.Table.Rows, File: "table.csv"}},
	}
	for _, s := range r.Settings {
		run.Config = append(run.Config, report.Field{Key: s.Key, Value: s.Value})
	}
	if err := report.Write(dir, run); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("experiment: %s: %w", r.Name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "result.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	return nil
}
