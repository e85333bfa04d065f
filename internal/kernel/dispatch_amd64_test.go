//go:build amd64 && !noasm

package kernel

import (
	"fmt"
	"reflect"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestFastPathInUse checks, on a CPU that has the features (as
// golang.org/x/sys/cpu reports them, read here independently of
// cpu_amd64.go), that every kernel runs its assembly: if detection fell
// back to Go, every cross-check would compare Go with Go and pass.
func TestFastPathInUse(t *testing.T) {
	if asmOff {
		t.Skip("MYELIN_NOASM=1: the references are in use (TestNoasmEnv checks that)")
	}
	avx2 := cpu.X86.HasAVX2
	fma := avx2 && cpu.X86.HasFMA
	avx512 := fma && cpu.X86.HasAVX512F && cpu.X86.HasBMI2
	t.Logf("CPU: AVX2 %v, FMA %v, AVX-512F+BMI2 %v", avx2, fma, avx512)
	want := map[string]struct {
		fn   any
		need bool
	}{
		"sgemm":           {sgemmAsm, fma},
		"sum":             {sumAVX2, fma},
		"add":             {addAVX2, fma},
		"addRows":         {addRowsAsm, avx2},
		"relu":            {reluAVX2, fma},
		"reluGrad":        {reluGradAVX2, fma},
		"reluGradAdd":     {reluGradAddAVX2, fma},
		"adam":            {adamAsm, avx2},
		"sumSq":           {sumSqAsm, fma},
		"updateSums":      {updateSumsAsm, fma},
		"addColSums":      {addColSumsAsm, avx2},
		"colSums":         {colSumsAsm, avx2},
		"colSqDev":        {colSqDevAsm, avx2},
		"normRows":        {normRowsAsm, avx2},
		"bnBwdSums":       {bnBwdSumsAsm, avx2},
		"bnBwdInput":      {bnBwdInputAsm, avx2},
		"normRowsReLU":    {normRowsReLUAsm, avx2},
		"bnBwdSumsReLU":   {bnBwdSumsReLUAsm, avx2},
		"bnBwdInputReLU":  {bnBwdInputReLUAsm, avx2},
		"maxPool2":        {maxPool2Asm, avx2},
		"maxPool2BackSet": {maxPool2BackSetAsm, avx2},
		"maxPool2Back":    {maxPool2BackAsm, avx2},
		"u8ToF32":         {uint8ToFloat32Asm, avx2},
		"im2colWindows":   {im2colWindowsAsm, avx2},
	}
	gen := funcFields(&generic)
	for field, f := range funcFields(&impl) {
		w, ok := want[field]
		if !ok {
			t.Errorf("field %s has no entry in this test: say which function and features it needs", field)
			continue
		}
		switch {
		case w.need && f.Pointer() != reflect.ValueOf(w.fn).Pointer():
			t.Errorf("field %s: the CPU has the features but a function other than the assembly one is in use", field)
		case !w.need && f.Pointer() != gen[field].Pointer():
			t.Errorf("field %s: the CPU lacks the features but the reference is not in use", field)
		}
	}
	wantGemm := "generic"
	switch {
	case avx512:
		wantGemm = "avx512-8x32"
	case fma:
		wantGemm = "avx2-6x16"
	}
	if got := GemmKernel(); got != wantGemm {
		t.Errorf("GemmKernel() = %q, want %q for this CPU", got, wantGemm)
	}
	if fma && (impl.gemmSmall == nil || impl.gemmSmall.mr != 1) {
		t.Errorf("small-m micro-kernel in use: %v, want a one-row kernel", impl.gemmSmall)
	}
}

// TestAdamVectors: each Adam loop, the 8-lane one machines without
// AVX-512 run and the 16-lane one in both of its modes (the dispatch picks
// one by vendor), matches the reference on vectors that underflow and on
// values from every range.
func TestAdamVectors(t *testing.T) {
	for _, c := range []struct {
		wide, screen bool
		has          bool
	}{{false, false, hasAVX2}, {true, false, hasAVX512}, {true, true, hasAVX512}} {
		name := fmt.Sprintf("wide=%v/screen=%v", c.wide, c.screen)
		if !c.has {
			t.Logf("%s: not on this machine", name)
			continue
		}
		testAdamSubnormals(t, func(w, g, m, v []float32) {
			adamVectors(c.wide, c.screen, w, g, m, v, 1e-3, 1, 1e-7, 0.1, 0.001, 1)
		})
		testAdamWild(t, name, func(w, g, m, v []float32, a, r, eps, c1, c2, s float32) {
			adamVectors(c.wide, c.screen, w, g, m, v, a, r, eps, c1, c2, s)
		})
	}
}

// BenchmarkAdamVectorsAVX2 is BenchmarkAdamStep on the 8-lane loop that
// machines without AVX-512 run (which computes subnormals as they come:
// listing them as the 16-lane loop does cost 13% on ordinary values
// here, and nothing on cores that handle subnormals in hardware).
func BenchmarkAdamVectorsAVX2(b *testing.B) {
	if !hasAVX2 {
		b.Skip("no AVX2 on this machine")
	}
	benchAdam(b, "ordinary", func(w, g, m, v []float32) {
		adamVectors(false, false, w, g, m, v, 1e-3, 1, 1e-7, 0.1, 0.001, 1)
	})
}
