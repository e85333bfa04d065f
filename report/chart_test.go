package report

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

func TestRenderFormats(t *testing.T) {
	c := Chart{Title: "loss", XLabel: "epoch", YLabel: "loss",
		Series: []Series{{Name: "train", X: []float64{1, 2, 3}, Y: []float64{0.9, 0.5, 0.3}}}}
	b, err := c.Render("png")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, pngMagic) {
		t.Fatalf("png starts %q, want %q", b[:min(8, len(b))], pngMagic)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("png.Decode: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 960 || got.Y != 540 {
		t.Errorf("png size %v, want 960x540", got)
	}
	b, err = c.Render("SVG")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if i := strings.Index(s, "<svg"); i < 0 || !strings.HasSuffix(strings.TrimSpace(s), "</svg>") {
		t.Fatalf("svg output does not hold an <svg> element: %.200q", s)
	}
	if !strings.Contains(s, ">train<") {
		t.Errorf("svg has no legend text %q", "train")
	}
	if _, err := c.Render("gif"); err == nil || !strings.Contains(err.Error(), `"gif"`) {
		t.Errorf(`Render("gif"): got %v, want an error naming the format`, err)
	}
}

func TestRenderNoData(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name string
		c    Chart
	}{
		{"empty", Chart{Title: "t"}},
		{"empty series", Chart{Series: []Series{{Name: "a"}}}},
		{"all NaN", Chart{Series: []Series{{X: []float64{1, 2}, Y: []float64{nan, nan}}}}},
		{"infinite x", Chart{Series: []Series{{X: []float64{inf}, Y: []float64{1}}}}},
		{"log of non-positive", Chart{LogY: true, Series: []Series{{X: []float64{1, 2}, Y: []float64{0, -1}}}}},
		{"band with NaN edges", Chart{Bands: []Band{{X: []float64{1}, Lo: []float64{nan}, Mid: []float64{1}, Hi: []float64{2}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []string{"png", "svg"} {
				if _, err := tc.c.Render(f); !errors.Is(err, ErrNoData) {
					t.Errorf("Render(%q): got %v, want ErrNoData", f, err)
				}
			}
		})
	}
}

func TestRenderBadLengths(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		c          Chart
	}{
		{"series", `series "a": 2 x values but 1 y values`, Chart{Series: []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{1}}}}},
		{"band", `band "b": 1 x values but 1, 0, 1`, Chart{Bands: []Band{{Name: "b", X: []float64{1}, Lo: []float64{1}, Hi: []float64{1}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.Render("png")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "report: ") {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// Degenerate but drawable data: each must render, not panic or error.
func TestRenderDegenerate(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		c    Chart
	}{
		{"one point", Chart{Series: []Series{{X: []float64{1}, Y: []float64{0.5}}}}},
		{"one point log", Chart{LogY: true, Series: []Series{{X: []float64{3}, Y: []float64{1e-7}}}}},
		{"constant zero", Chart{Series: []Series{{X: []float64{1, 2, 3}, Y: []float64{0, 0, 0}}}}},
		{"constant log", Chart{LogY: true, Series: []Series{{X: []float64{1, 2}, Y: []float64{2, 2}}}}},
		{"NaN in the middle", Chart{Series: []Series{{X: []float64{1, 2, 3}, Y: []float64{1, nan, 3}}}}},
		{"log skips zeros", Chart{LogY: true, Series: []Series{{X: []float64{1, 2, 3}, Y: []float64{0, 1e-3, 1e3}}}}},
		{"log x", Chart{LogX: true, Series: []Series{{X: []float64{0.001, 0.01, 1}, Y: []float64{0.1, 0.9, 0.2}}}}},
		{"many decades", Chart{LogY: true, Series: []Series{{X: []float64{1, 2}, Y: []float64{1e-30, 1e30}}}}},
		{"narrow log", Chart{LogY: true, Series: []Series{{X: []float64{1, 2}, Y: []float64{0.501, 0.502}}}}},
		{"empty next to full", Chart{Series: []Series{{Name: "none"}, {Name: "some", X: []float64{1, 2}, Y: []float64{1, 2}}}}},
		{"band", Chart{Bands: []Band{{Name: "p", X: []float64{1, 2}, Lo: []float64{0, 1}, Mid: []float64{1, 2}, Hi: []float64{2, 3}}}}},
		{"unnamed", Chart{Series: []Series{{X: []float64{1, 2}, Y: []float64{1, 2}}}}},
		{"thirty lines", func() Chart {
			var c Chart
			for i := range 30 {
				c.Series = append(c.Series, Series{Name: strings.Repeat("x", i), X: []float64{0, 1}, Y: []float64{float64(i), float64(i + 1)}})
			}
			return c
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.c.Render("png"); err != nil {
				t.Errorf("png: %v", err)
			}
			if _, err := tc.c.Render("svg"); err != nil {
				t.Errorf("svg: %v", err)
			}
		})
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	c := Chart{Series: []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{3, 4}}}}
	for _, name := range []string{"c.png", "c.svg"} {
		p := filepath.Join(dir, name)
		if err := c.Save(p); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if png := bytes.HasPrefix(b, pngMagic); png != strings.HasSuffix(name, ".png") {
			t.Errorf("%s: PNG header %v", name, png)
		}
	}
	if err := c.Save(filepath.Join(dir, "c.jpeg")); err == nil {
		t.Error("Save(c.jpeg): got nil error, want one")
	}
	if err := (Chart{}).Save(filepath.Join(dir, "empty.png")); !errors.Is(err, ErrNoData) {
		t.Errorf("Save of an empty chart: got %v, want ErrNoData", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "empty.png")); !os.IsNotExist(err) {
		t.Errorf("an empty chart left a file: %v", err)
	}
}

func TestLogTicks(t *testing.T) {
	for _, tc := range []struct {
		min, max float64
		want     []string
	}{
		{0.1, 2, []string{"0.1", "0.2", "0.5", "1", "2"}},
		{1e-4, 10, []string{"0.0001", "0.001", "0.01", "0.1", "1", "10"}},
		{0.3, 0.8, []string{"0.3", "0.4", "0.5", "0.6", "0.7", "0.8"}},
	} {
		var got []string
		for _, tk := range (logTicks{}).Ticks(tc.min, tc.max) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("Ticks(%g, %g) labels %q, want %q", tc.min, tc.max, got, tc.want)
		}
	}
}

func TestLinearTicks(t *testing.T) {
	for _, tc := range []struct {
		min, max float64
		integer  bool
		want     []string
	}{
		{1, 2, true, []string{"1", "2"}},
		{1, 4, true, []string{"1", "2", "3", "4"}},
		{0, 100, true, []string{"0", "20", "40", "60", "80", "100"}},
		{10, 3300, false, []string{"1000", "2000", "3000"}},
		{0, 1, false, []string{"0", "0.2", "0.4", "0.6", "0.8", "1"}},
		{0.9, 0.97, false, []string{"0.9", "0.92", "0.94", "0.96"}},
		{-3, 2.5, false, []string{"-3", "-2", "-1", "0", "1", "2"}},
		{1, 4, false, []string{"1", "1.5", "2", "2.5", "3", "3.5", "4"}},
	} {
		var got []string
		ticks := (linearTicks{integer: tc.integer}).Ticks(tc.min, tc.max)
		for _, tk := range ticks {
			if tk.Value < tc.min-1e-9 || tk.Value > tc.max+1e-9 {
				t.Errorf("Ticks(%g, %g): tick %g out of range", tc.min, tc.max, tk.Value)
			}
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("Ticks(%g, %g) labels %q, want %q", tc.min, tc.max, got, tc.want)
		}
		if len(ticks) <= len(got) && !tc.integer {
			t.Errorf("Ticks(%g, %g): no minor ticks", tc.min, tc.max)
		}
	}
}
