package report_test

import (
	"bytes"
	"fmt"
	"log"
	"os"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/report"
)

// A comparison of two runs is two series on one chart.
func ExampleChart() {
	steps := []float64{100, 200, 300}
	c := report.Chart{
		Title: "Test accuracy", XLabel: "step", YLabel: "accuracy",
		Series: []report.Series{
			{Name: "without BN", X: steps, Y: []float64{0.35, 0.61, 0.74}},
			{Name: "with BN", X: steps, Y: []float64{0.92, 0.94, 0.95}},
		},
	}
	png, err := c.Render("png")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bytes.HasPrefix(png, []byte("\x89PNG")))

	_, err = report.Chart{Title: "empty"}.Render("png")
	fmt.Println(err)
	// Output:
	// true
	// report: no finite data to plot: chart "empty"
}

func ExampleWrite() {
	dir, err := os.MkdirTemp("", "report")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	h := model.History{Epochs: []int{1, 2}, Metrics: map[string][]float64{
		"loss": {0.5, 0.3}, "val_loss": {0.6, 0.4},
	}}
	err = report.Write(dir, report.Run{
		Title:   "demo",
		Config:  []report.Field{{Key: "optimizer", Value: "adam"}},
		History: h,
		Test:    map[string]float64{"loss": 0.41},
		Charts:  report.HistoryCharts(h),
	})
	if err != nil {
		log.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	csv, _ := os.ReadFile(dir + "/metrics.csv")
	fmt.Print(string(csv))
	// Output:
	// index.html
	// loss.png
	// loss.svg
	// metrics.csv
	// epoch,loss,val_loss
	// 1,0.5,0.6
	// 2,0.3,0.4
}
