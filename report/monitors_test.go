package report

import (
	"strconv"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/monitor"
)

func TestWindowMeans(t *testing.T) {
	// Two epochs of 4 steps with losses 4, 2, 6, 0 | 1, 1, 3, 3, recorded
	// every 2 steps as running means within each epoch.
	losses := [][]float64{{4, 2, 6, 0}, {1, 1, 3, 3}}
	ms := &Monitors{Curves: &monitor.Curves{Every: 2}}
	for e, ls := range losses {
		sum := 0.0
		for i, l := range ls {
			sum += l
			logs := model.Logs{"loss": sum / float64(i+1)}
			ms.Curves.OnBatchEnd(e, i+1, logs)
			ms.within.OnBatchEnd(e, i+1, logs)
		}
		ms.Curves.OnEpochEnd(e, model.Logs{"loss": sum / 4})
	}
	var got []string
	for _, s := range ms.WindowMeans() {
		got = append(got, strconv.Itoa(s.Step)+":"+strconv.FormatFloat(s.Logs["loss"], 'g', -1, 64))
	}
	want := "2:3 4:3 6:1 8:3" // means of (4,2), (6,0), (1,1), (3,3)
	if strings.Join(got, " ") != want {
		t.Errorf("window means %q, want %q", strings.Join(got, " "), want)
	}
}
