package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The distributed phase: two processes training the founding model on
// each global batch, myelin's over Open MPI (cmd/myelin built with -tags
// mpi, `mpirun -np 2 myelin train --distributed`) against PyTorch's
// DistributedDataParallel (gloo), one thread per process. myelin's batch
// norm is synchronized across the ranks (its default); PyTorch's stays per
// rank, since its SyncBatchNorm needs CUDA. myelin's figure is a whole
// epoch's samples/s (warm-up steps included), PyTorch's the steps after
// its warm-up: both against myelin.

// distBatches are the global batch sizes measured.
var distBatches = []int{64, 128}

func (b *bench) phaseDistributed() error {
	bin, why, cleanup := b.buildMPI()
	defer cleanup()
	if bin == "" {
		b.info["distributed"] = why
		return nil
	}
	steps := 900
	if b.cfg.quick {
		steps = 50
	}
	for r := 0; r < b.cfg.rounds; r++ {
		err := interleave(r, func() error {
			for _, batch := range distBatches {
				sps, err := myelinMPI(bin, batch)
				if err != nil {
					return err
				}
				b.add(fmt.Sprintf("dist/myelin/b=%d", batch), sps)
			}
			return nil
		}, func() error {
			if b.cfg.noPeers {
				return nil
			}
			for _, batch := range distBatches {
				res, err := b.python("torch_model.py", []string{"OPENBLAS_NUM_THREADS=1"}, "--mode", "ddp", "--ranks", "2",
					"--batch", fmt.Sprint(batch), "--steps", fmt.Sprint(steps), "--warmup", "50")
				if err != nil {
					return err
				}
				b.add(fmt.Sprintf("dist/torch/b=%d", batch), num(res[len(res)-1], "samples_per_sec"))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// buildMPI builds cmd/myelin with -tags mpi into a temporary directory, or
// says why it cannot.
func (b *bench) buildMPI() (bin, why string, cleanup func()) {
	cleanup = func() {}
	if _, err := exec.LookPath("mpirun"); err != nil {
		return "", "not measured: no mpirun (Debian: openmpi-bin)", cleanup
	}
	if err := exec.Command("pkg-config", "--exists", "ompi-c").Run(); err != nil {
		return "", "not measured: no Open MPI headers (Debian: libopenmpi-dev)", cleanup
	}
	dir, err := os.MkdirTemp("", "compare-mpi")
	if err != nil {
		return "", "not measured: " + err.Error(), cleanup
	}
	cleanup = func() { os.RemoveAll(dir) }
	bin = filepath.Join(dir, "myelin")
	cmd := exec.Command("go", "build", "-tags", "mpi", "-o", bin, "./cmd/myelin")
	cmd.Dir = b.cfg.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Sprintf("not measured: go build -tags mpi failed: %v\n%s", err, out), cleanup
	}
	return bin, "", cleanup
}

// myelinMPI trains one epoch on two ranks at a global batch and returns
// the samples/s rank 0 reports.
func myelinMPI(bin string, batch int) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mpirun", "--oversubscribe", "--mca", "btl", "self,vader", "-np", "2",
		bin, "train", "--distributed", "--epochs", "1", "--batch-size", fmt.Sprint(batch), "--verbose", "0", "--json", "--out", "")
	cmd.Env = append(os.Environ(), "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "GOMAXPROCS=1")
	what := fmt.Sprintf("mpirun -np 2 myelin train --distributed --batch-size %d", batch)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", what, err, stderr.String())
	}
	var res map[string]any // train --json prints one indented object
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return 0, fmt.Errorf("%s: %v in %q", what, err, stdout.String())
	}
	return num(res, "samples_per_second"), nil
}

// distributed prints the distributed phase's table.
func (b *bench) distributed(p printer) {
	if _, ok := b.med("dist/myelin/b=64"); !ok {
		if why := b.info["distributed"]; why != "" {
			p("## Distributed training (2 processes)\n\n%s\n\n", why)
		}
		return
	}
	p("## Distributed training (2 processes)\n\n")
	p("The founding model on two processes of one thread each, each on half of every global batch: myelin over\n")
	p("Open MPI (`mpirun -np 2 myelin train --distributed`, built with -tags mpi; batch norm synchronized across the\n")
	p("ranks; samples/s of a whole epoch, its first steps included) against PyTorch's DistributedDataParallel (gloo;\n")
	p("batch norm per rank, as SyncBatchNorm needs CUDA; samples/s of the steps after 50 warm-up ones). On this\n")
	p("machine two processes share its two cores, so neither beats one process with threads.\n\n")
	p("| global batch | myelin 2 ranks samples/s | PyTorch DDP 2 ranks samples/s | myelin/PyTorch |\n|---|---|---|---|\n")
	for _, batch := range distBatches {
		m := b.get(fmt.Sprintf("dist/myelin/b=%d", batch))
		t := b.get(fmt.Sprintf("dist/torch/b=%d", batch))
		p("| %d | %s | %s | %s |\n", batch, count(m), count(t), times(m/t))
	}
	p("\n")
}
