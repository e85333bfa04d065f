package report_test

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/report"
)

// These tests open reports in headless Chromium (Debian's chromium
// package) over the DevTools protocol. They skip when no browser is found,
// unless MYELIN_REQUIRE_CHROMIUM=1, as CI sets it. MYELIN_CHROMIUM names the
// browser binary; otherwise chromium, chromium-browser, google-chrome are
// looked up in PATH.

func chromium(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	if p := os.Getenv("MYELIN_CHROMIUM"); p != "" {
		names = []string{p}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("MYELIN_REQUIRE_CHROMIUM") == "1" {
		t.Fatalf("no Chromium found (looked for %q) and MYELIN_REQUIRE_CHROMIUM=1", names)
	}
	t.Skipf("no Chromium found (looked for %q); set MYELIN_REQUIRE_CHROMIUM=1 to make this an error", names)
	return ""
}

// browser starts a headless Chromium for the test and returns a tab
// context and the problems seen so far: uncaught exceptions, console errors
// and warnings, browser-log errors and warnings (failed loads, Content
// Security Policy violations) and every request that is not file: or data:.
func browser(t *testing.T) (context.Context, func() []string) {
	exe := chromium(t)
	if testing.Short() {
		t.Skip("starting a browser is slow; skipped with -short")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // running as root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	var mu sync.Mutex
	var problems []string
	add := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	tctx, tcancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			add("exception: %s", text)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				add("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		case *log.EventEntryAdded:
			if e := ev.Entry; e.Level == log.EntryLevelError || e.Level == log.EntryLevelWarning {
				add("log %s: %s %s", e.Level, e.Text, e.URL)
			}
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") {
				add("network request: %s", u)
			}
		}
	}))
	t.Cleanup(tcancel)
	if err := chromedp.Do(tctx); err != nil { // start the browser now
		t.Fatalf("starting %s: %v", exe, err)
	}
	return tctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}
}

// pageState is what checkImages reads from the page once it has loaded.
type pageState struct {
	Title  string   `json:"title"`
	Ready  string   `json:"ready"`
	Images int      `json:"images"`
	Widths []int    `json:"widths"`
	Bad    []string `json:"bad"`
	SVGs   int      `json:"svgs"`
	Text   string   `json:"text"`
}

// checkImages waits for every <img> to decode and reports the ones that
// did not load (naturalWidth 0).
const checkImages = `(async () => {
	const imgs = Array.from(document.images);
	const bad = [];
	for (const img of imgs) {
		try { await img.decode(); } catch (e) {}
		if (!img.complete || img.naturalWidth === 0) bad.push(img.alt || img.src.slice(0, 60));
	}
	return {
		title: document.title,
		ready: document.readyState,
		images: imgs.length,
		widths: imgs.map(i => i.naturalWidth),
		bad: bad,
		svgs: document.querySelectorAll("svg").length,
		text: document.body ? document.body.innerText : "",
	};
})()`

func fileURL(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		panic(err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

func open(t *testing.T, ctx context.Context, path string) pageState {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(fileURL(path))); err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](checkImages, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: reading the page: %v", path, err)
	}
	return st
}

// richRun has every part a report can have, hostile strings included.
func richRun() report.Run {
	h := model.History{Epochs: []int{1, 2, 3, 4}, Metrics: map[string][]float64{
		"loss": {1.2, 0.6, 0.4, 0.3}, "accuracy": {0.6, 0.8, 0.88, 0.9},
		"val_loss": {1.1, 0.7, 0.5, math.NaN()}, "val_accuracy": {0.62, 0.78, 0.85, 0.86},
	}}
	var steps []report.StepLog
	var x, lo, mid, hi []float64
	var layers []report.Series
	for i := range 5 {
		layers = append(layers, report.Series{Name: fmt.Sprintf("dense_%d", i)})
	}
	for s := 10; s <= 400; s += 10 {
		f := float64(s)
		steps = append(steps, report.StepLog{Step: s, Epoch: 1 + s/100, Logs: map[string]float64{"loss": 2 / math.Sqrt(f), "accuracy": 1 - 1/math.Sqrt(f)}})
		x, lo, mid, hi = append(x, f), append(lo, -1+f/400), append(mid, f/400), append(hi, 1+f/400)
		for i := range layers {
			layers[i].X = append(layers[i].X, f)
			layers[i].Y = append(layers[i].Y, math.Pow(10, -float64(i))/math.Sqrt(f))
		}
	}
	charts := report.HistoryCharts(h)
	charts = append(charts, report.StepCharts(steps)...)
	charts = append(charts,
		report.Chart{Title: "Gradient norm per layer", XLabel: "step", YLabel: "gradient norm", LogY: true, Series: layers},
		report.Chart{Title: "Input percentiles", XLabel: "step", YLabel: "input", Bands: []report.Band{{Name: "unit 0", X: x, Lo: lo, Mid: mid, Hi: hi}}},
		report.Chart{Title: "Nothing recorded"},
	)
	return report.Run{
		Title:   `Run <script>alert("title")</script>`,
		Created: time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC),
		Config:  []report.Field{{Key: "optimizer", Value: "adam"}, {Key: "note", Value: hostile}},
		History: h,
		Test:    map[string]float64{"loss": 0.31, "accuracy": 0.9},
		Steps:   steps,
		Notes:   []string{"dense_4: vanishing gradients at 12 of 40 checks", hostile},
		Charts:  charts,
		Tables:  []report.Table{{Title: "Gradient health", Header: []string{"layer", "flags"}, Rows: [][]string{{"dense_4", hostile}}}},
		Data:    []report.Table{{Title: "health", Header: []string{"step"}, Rows: [][]string{{"1"}}, File: "health.csv"}},
	}
}

func TestReportInChromium(t *testing.T) {
	ctx, problems := browser(t)
	dir := t.TempDir()
	r := richRun()
	if err := report.Write(dir, r); err != nil {
		t.Fatal(err)
	}
	st := open(t, ctx, filepath.Join(dir, "index.html"))
	if p := problems(); len(p) > 0 {
		t.Errorf("index.html: %d problems in the browser:\n%s", len(p), strings.Join(p, "\n"))
	}
	charts := len(r.Charts) - 1 // "Nothing recorded" has no image
	if st.Images != charts || len(st.Bad) > 0 {
		t.Errorf("images: %d loaded of %d (not loaded: %q), want %d", st.Images-len(st.Bad), st.Images, st.Bad, charts)
	}
	for i, w := range st.Widths {
		if w != 960 {
			t.Errorf("image %d: naturalWidth %d, want 960", i, w)
		}
	}
	if st.Title != r.Title {
		t.Errorf("document.title %q, want %q", st.Title, r.Title)
	}
	for _, s := range []string{hostile, "Nothing recorded: no data to plot.", "Gradient health", "0.86"} {
		if !strings.Contains(st.Text, s) {
			t.Errorf("page text lacks %q", s)
		}
	}

	// Each SVG file must parse and draw on its own.
	svgs, _ := filepath.Glob(filepath.Join(dir, "*.svg"))
	if len(svgs) != charts {
		t.Fatalf("%d SVG files, want %d", len(svgs), charts)
	}
	for _, f := range svgs {
		if err := chromedp.Do(ctx, chromedp.Navigate(fileURL(f))); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.namespaceURI === "http://www.w3.org/2000/svg" &&
			!document.querySelector("parsererror") && document.documentElement.getBBox().width > 100`))
		if err != nil || !ok {
			t.Errorf("%s: not a drawable SVG document (%v)", filepath.Base(f), err)
		}
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("after the SVG files: problems:\n%s", strings.Join(p, "\n"))
	}
}

// TestBrowserCheckCanFail shows the check above sees what it looks for: a
// page with a broken image, a missing image, a console error, an uncaught
// exception and a network request.
func TestBrowserCheckCanFail(t *testing.T) {
	ctx, problems := browser(t)
	path := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><html><head><title>bad</title></head><body>
<img src="data:image/png;base64,AAAA" alt="broken">
<img src="missing.png" alt="missing">
<img src="http://127.0.0.1:9/x.png" alt="network">
<script>console.error("bad thing"); throw new Error("boom");</script>
</body></html>`
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	st := open(t, ctx, path)
	if want := []string{"broken", "missing", "network"}; !slices.Equal(st.Bad, want) {
		t.Errorf("images not loaded: got %q, want %q", st.Bad, want)
	}
	all := strings.Join(problems(), "\n")
	t.Logf("problems seen:\n%s", all)
	for _, want := range []string{"console.error: bad thing", "exception:", "boom", "network request: http://127.0.0.1:9/x.png"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q; got:\n%s", want, all)
		}
	}
}

// TestReportDirInChromium checks a report written elsewhere, such as by
// "myelin train --report DIR" in CI: MYELIN_REPORT_DIR=DIR go test -run
// TestReportDirInChromium ./report.
func TestReportDirInChromium(t *testing.T) {
	dir := os.Getenv("MYELIN_REPORT_DIR")
	if dir == "" {
		t.Skip("MYELIN_REPORT_DIR is not set")
	}
	ctx, problems := browser(t)
	st := open(t, ctx, filepath.Join(dir, "index.html"))
	if p := problems(); len(p) > 0 {
		t.Errorf("%s: problems in the browser:\n%s", dir, strings.Join(p, "\n"))
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if st.Images == 0 || st.Images != len(pngs) || len(st.Bad) > 0 {
		t.Errorf("%s: %d images (%d PNG files), not loaded: %q", dir, st.Images, len(pngs), st.Bad)
	}
	t.Logf("%s: %q, %d images loaded", dir, st.Title, st.Images)
}
