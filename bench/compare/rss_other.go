//go:build !unix

package main

import "os"

// peakRSS is NaN (printed as a dash): only Unix's rusage gives a peak RSS.
func peakRSS(*os.ProcessState) float64 { return nan }
