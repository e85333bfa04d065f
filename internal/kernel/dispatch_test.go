package kernel

import (
	"os"
	"testing"
)

func TestGemmKernelName(t *testing.T) {
	got := GemmKernel()
	if gemmKernelInUse == nil {
		if got != "generic" {
			t.Errorf("GemmKernel() = %q with no assembly kernel in use, want generic", got)
		}
		return
	}
	if got != gemmKernelInUse.name || got == "generic" {
		t.Errorf("GemmKernel() = %q, kernel in use %q", got, gemmKernelInUse.name)
	}
	if os.Getenv("MYELIN_NOASM") == "1" {
		t.Errorf("MYELIN_NOASM=1 but kernel %q is in use", got)
	}
}
