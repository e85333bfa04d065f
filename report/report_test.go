package report_test

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/report"
)

func sampleHistory() model.History {
	return model.History{
		Epochs: []int{1, 2, 3},
		Metrics: map[string][]float64{
			"loss":         {0.9, 0.4123456789012345, 0.25},
			"accuracy":     {0.7, 0.85, 0.9},
			"val_loss":     {1.0, 0.5, math.NaN()},
			"val_accuracy": {0.69, 0.8, 0.88},
		},
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func TestMetricsCSVMatchesHistory(t *testing.T) {
	dir := t.TempDir()
	h := sampleHistory()
	if err := report.Write(dir, report.Run{History: h}); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, filepath.Join(dir, "metrics.csv"))
	wantHeader := []string{"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
	if strings.Join(rows[0], ",") != strings.Join(wantHeader, ",") {
		t.Fatalf("header %q, want %q", rows[0], wantHeader)
	}
	if len(rows) != 1+len(h.Epochs) {
		t.Fatalf("%d rows, want %d (header + one per epoch)", len(rows), 1+len(h.Epochs))
	}
	for i, row := range rows[1:] {
		if e, err := strconv.Atoi(row[0]); err != nil || e != h.Epochs[i] {
			t.Errorf("row %d: epoch %q, want %d", i+1, row[0], h.Epochs[i])
		}
		for j, name := range wantHeader[1:] {
			got, err := strconv.ParseFloat(row[j+1], 64)
			want := h.Metrics[name][i]
			if err != nil || !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("epoch %d %s: got %q, want %v (exactly)", h.Epochs[i], name, row[j+1], want)
			}
		}
	}
}

func TestStepsCSV(t *testing.T) {
	dir := t.TempDir()
	steps := []report.StepLog{
		{Step: 10, Epoch: 1, Logs: map[string]float64{"loss": 2.5, "accuracy": 0.1}},
		{Step: 20, Epoch: 1, Logs: map[string]float64{"loss": 1.25}},
		{Step: 30, Epoch: 2, Logs: map[string]float64{"loss": 0.5, "accuracy": 0.75}},
	}
	if err := report.Write(dir, report.Run{Steps: steps}); err != nil {
		t.Fatal(err)
	}
	got := readCSV(t, filepath.Join(dir, "steps.csv"))
	want := [][]string{
		{"step", "epoch", "loss", "accuracy"},
		{"10", "1", "2.5", "0.1"},
		{"20", "1", "1.25", ""},
		{"30", "2", "0.5", "0.75"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows %q, want %q", len(got), got, want)
	}
	for i := range want {
		if strings.Join(got[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("row %d: got %q, want %q", i, got[i], want[i])
		}
	}
	if _, err := os.Stat(filepath.Join(t.TempDir(), "steps.csv")); err == nil {
		t.Error("steps.csv written without steps")
	}
}

func TestNoStepsNoStepsCSV(t *testing.T) {
	dir := t.TempDir()
	if err := report.Write(dir, report.Run{History: sampleHistory()}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "steps.csv")); !os.IsNotExist(err) {
		t.Errorf("steps.csv: got %v, want it absent", err)
	}
}

const hostile = `</td><script>alert("x")</script><img src=x onerror=alert(1)>&amp;`

func TestHTMLEscapesHostileStrings(t *testing.T) {
	dir := t.TempDir()
	h := model.History{Epochs: []int{1}, Metrics: map[string][]float64{hostile: {1}}}
	r := report.Run{
		Title:   hostile,
		Config:  []report.Field{{Key: hostile, Value: hostile}, {Key: "data", Value: `"quoted" 'single'`}},
		History: h,
		Test:    map[string]float64{hostile: 0.5},
		Notes:   []string{hostile},
		Charts:  []report.Chart{{Title: hostile, Series: []report.Series{{Name: hostile, X: []float64{1, 2}, Y: []float64{1, 2}}}}},
		Tables:  []report.Table{{Title: hostile, Header: []string{hostile}, Rows: [][]string{{hostile}}}},
	}
	if err := report.Write(dir, r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, bad := range []string{"<script", "<img src=x", `alert("x")`, "</td><script"} {
		if strings.Contains(strings.ToLower(page), strings.ToLower(bad)) {
			t.Errorf("index.html contains %q unescaped", bad)
		}
	}
	escaped := "&lt;/td&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;"
	// Title, h1, config key and value, metric name twice (final and epoch
	// tables, plus the metric row), note, figure caption, table title,
	// header and cell: at least ten places.
	if n := strings.Count(page, escaped); n < 10 {
		t.Errorf("escaped hostile string appears %d times, want at least 10", n)
	}
	if n := strings.Count(page, "<img "); n != 1 {
		t.Errorf("%d <img> elements, want 1 (the one chart)", n)
	}
	if !strings.Contains(page, "&#34;quoted&#34; &#39;single&#39;") {
		t.Error("quotes in a config value are not escaped")
	}
}

func TestWriteEmbedsCharts(t *testing.T) {
	dir := t.TempDir()
	h := sampleHistory()
	r := report.Run{History: h, Charts: append(report.HistoryCharts(h),
		report.Chart{Title: "empty"},
		report.Chart{Title: "loss"}, // clashes with HistoryCharts' name; also empty
	)}
	if err := report.Write(dir, r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	srcs := regexp.MustCompile(`<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"`).FindAllStringSubmatch(page, -1)
	if len(srcs) != 2 {
		t.Fatalf("%d embedded PNGs, want 2 (loss, accuracy)", len(srcs))
	}
	for i, name := range []string{"loss", "accuracy"} {
		file, err := os.ReadFile(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		emb, err := base64.StdEncoding.DecodeString(srcs[i][1])
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		if !bytes.Equal(emb, file) {
			t.Errorf("embedded image %d differs from %s.png", i, name)
		}
		svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
		if err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s.svg: %v, <svg> present %v", name, err, bytes.Contains(svg, []byte("<svg")))
		}
	}
	if n := strings.Count(page, "no data to plot"); n != 2 {
		t.Errorf(`"no data to plot" appears %d times, want 2`, n)
	}
	for _, f := range []string{"empty.png", "loss-2.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s: got %v, want no file for a chart without data", f, err)
		}
	}
	for _, s := range []string{"Content-Security-Policy", `href="metrics.csv"`, "0.41235"} {
		if !strings.Contains(page, s) {
			t.Errorf("index.html lacks %q", s)
		}
	}
}

func TestWriteTables(t *testing.T) {
	dir := t.TempDir()
	r := report.Run{
		Tables: []report.Table{{Title: "shown", Header: []string{"a", "b"}, Rows: [][]string{{"1", "x,y"}}, File: "shown.csv"}},
		Data:   []report.Table{{Title: "raw", Header: []string{"c"}, Rows: [][]string{{"only-in-csv"}}, File: "raw.csv"}},
	}
	if err := report.Write(dir, r); err != nil {
		t.Fatal(err)
	}
	if got := readCSV(t, filepath.Join(dir, "shown.csv")); len(got) != 2 || got[1][1] != "x,y" {
		t.Errorf("shown.csv: got %q", got)
	}
	if got := readCSV(t, filepath.Join(dir, "raw.csv")); len(got) != 2 || got[1][0] != "only-in-csv" {
		t.Errorf("raw.csv: got %q", got)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if !bytes.Contains(page, []byte("x,y")) || bytes.Contains(page, []byte("only-in-csv")) {
		t.Error("Tables must be shown on the page, Data only linked")
	}
	if !bytes.Contains(page, []byte(`href="raw.csv"`)) {
		t.Error("the page does not link raw.csv")
	}
}

func TestWriteErrors(t *testing.T) {
	for _, tc := range []struct {
		name, dir, want string
		r               report.Run
	}{
		{"no dir", "", "empty directory", report.Run{}},
		{"path in table file", "d", "must be a new plain name", report.Run{Data: []report.Table{{File: "../x.csv"}}}},
		{"reserved table file", "d", "must be a new plain name", report.Run{Data: []report.Table{{File: "metrics.csv"}}}},
		{"not csv", "d", "must be a new plain name", report.Run{Tables: []report.Table{{File: "x.txt"}}}},
		{"twice", "d", "must be a new plain name", report.Run{Tables: []report.Table{{File: "x.csv"}}, Data: []report.Table{{File: "x.csv"}}}},
		{"history too long", "d", `"loss" has 2 values for 1 epochs`, report.Run{History: model.History{Epochs: []int{1}, Metrics: map[string][]float64{"loss": {1, 2}}}}},
		{"bad series", "d", "2 x values but 1 y values", report.Run{Charts: []report.Chart{{Series: []report.Series{{X: []float64{1, 2}, Y: []float64{1}}}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir != "" {
				dir = filepath.Join(t.TempDir(), dir)
			}
			err := report.Write(dir, tc.r)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "report: ") {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestHistoryCharts(t *testing.T) {
	h := sampleHistory()
	h.Metrics["val_only"] = []float64{1, 2, 3}
	h.Metrics["short"] = []float64{1} // fewer values than epochs
	var got []string
	for _, c := range report.HistoryCharts(h) {
		var names []string
		for _, s := range c.Series {
			if len(s.X) != len(s.Y) {
				t.Errorf("chart %q series %q: %d x, %d y", c.Title, s.Name, len(s.X), len(s.Y))
			}
			names = append(names, s.Name)
		}
		got = append(got, c.Title+":"+strings.Join(names, "+"))
	}
	want := "loss:training+validation accuracy:training+validation short:training val_only:validation"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
}

func TestCompare(t *testing.T) {
	a, b := sampleHistory(), sampleHistory()
	delete(b.Metrics, "val_accuracy")
	c := report.Compare("accuracy", "accuracy", []string{"BN", "no BN"}, []model.History{a, b})
	var got []string
	for _, s := range c.Series {
		got = append(got, s.Name)
	}
	if want := "BN|BN (validation)|no BN"; strings.Join(got, "|") != want {
		t.Errorf("series %q, want %q", strings.Join(got, "|"), want)
	}
	if c.Series[0].Color != c.Series[1].Color || c.Series[0].Color == c.Series[2].Color {
		t.Errorf("colours %d %d %d: want one per run", c.Series[0].Color, c.Series[1].Color, c.Series[2].Color)
	}
	if _, err := c.Render("png"); err != nil {
		t.Error(err)
	}
}
