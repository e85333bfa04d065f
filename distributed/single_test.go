//go:build !mpi

package distributed_test

import (
	"strings"
	"testing"

	"github.com/myelin-go/myelin/distributed"
)

// TestLaunchedWithoutMPI: a binary without MPI that mpirun started would
// train N separate copies; Init refuses and says how to rebuild.
func TestLaunchedWithoutMPI(t *testing.T) {
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	_, err := distributed.Init()
	if err == nil || !strings.Contains(err.Error(), "rebuild with `go build -tags mpi`") {
		t.Fatalf("Init under mpirun without MPI: err = %v", err)
	}
}
