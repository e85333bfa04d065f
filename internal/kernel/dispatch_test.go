package kernel

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"
)

// funcFields returns the func-typed fields of b by name, as reflect
// values.
func funcFields(b *backend) map[string]reflect.Value {
	v := reflect.ValueOf(b).Elem()
	out := map[string]reflect.Value{}
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Func {
			out[v.Type().Field(i).Name] = f
		}
	}
	return out
}

// TestBackendComplete checks that no backend leaves a kernel without an
// implementation.
func TestBackendComplete(t *testing.T) {
	for name, b := range map[string]backend{"generic": generic, "in use": impl, "arch": archBackend()} {
		for field, f := range funcFields(&b) {
			if f.IsNil() {
				t.Errorf("backend %s: field %s is nil, want an implementation", name, field)
			}
		}
	}
}

// TestNoasmEnv runs the package's tests again in a child process with
// MYELIN_NOASM=1 and checks there that every kernel is its reference.
func TestNoasmEnv(t *testing.T) {
	if !asmOff {
		if testing.Short() {
			t.Skip("runs a child test process")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestNoasmEnv$", "-test.v")
		cmd.Env = append(os.Environ(), "MYELIN_NOASM=1")
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("the child test with MYELIN_NOASM=1 did not finish within 2 minutes:\n%s", out)
		}
		if err != nil {
			t.Fatalf("the child test with MYELIN_NOASM=1 failed: %v\n%s", err, out)
		}
		return
	}
	got, want := funcFields(&impl), funcFields(&generic)
	for field, f := range got {
		if f.Pointer() != want[field].Pointer() {
			t.Errorf("MYELIN_NOASM=1: field %s is not the reference", field)
		}
	}
	if impl.gemm != nil || GemmKernel() != "generic" {
		t.Errorf("MYELIN_NOASM=1: GemmKernel() = %q, want generic", GemmKernel())
	}
}

func TestGemmKernelName(t *testing.T) {
	got := GemmKernel()
	if impl.gemm == nil {
		if got != "generic" {
			t.Errorf("GemmKernel() = %q with no micro-kernel in use, want generic", got)
		}
		return
	}
	if got != impl.gemm.name || got == "generic" {
		t.Errorf("GemmKernel() = %q, micro-kernel in use %q", got, impl.gemm.name)
	}
}
