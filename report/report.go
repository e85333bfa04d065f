// Package report draws training charts and writes a self-contained report
// of a run: PNG and SVG charts, CSV files of the metrics, and an index.html
// that opens from disk, with no server and no network.
//
// Charts are plain data (Series, Band, Chart) drawn with gonum.org/v1/plot;
// the package knows nothing of the monitors, so anything that can be put as
// numbers against a step or an epoch can be plotted.
package report
