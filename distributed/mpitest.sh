#!/usr/bin/env bash
# Runs the MPI build's tests under mpirun on 2 and 4 ranks (the CI calls
# it after installing Debian's openmpi-bin and libopenmpi-dev). Each run
# has a deadline: a rank that hangs fails the run instead of the CI.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go vet -tags mpi ./distributed
go test -tags mpi -c -o "$tmp/distributed.test" ./distributed
go build -tags mpi -o "$tmp/myelin" ./cmd/myelin
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Shared memory between the ranks of one machine; no network.
mpi=(mpirun --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none)
for np in 2 4; do
	echo "== mpirun -np $np distributed.test"
	if ! timeout 120 "${mpi[@]}" -np "$np" "$tmp/distributed.test" -test.v -test.count 1 > "$tmp/out" 2>&1; then
		cat "$tmp/out"
		echo "mpitest: the MPI tests failed on $np ranks"
		exit 1
	fi
	grep -E '^(--- |ok|PASS|FAIL)' "$tmp/out" | sort | uniq -c
done

# End to end: N ranks train the founding model for an epoch and save a file
# byte-identical to one process that trains with --shard-size 32/N.
for np in 2 4; do
	echo "== mpirun -np $np myelin train --distributed, against --shard-size $((32 / np))"
	timeout 300 "${mpi[@]}" -np "$np" "$tmp/myelin" train --distributed --epochs 1 --verbose 0 --out "$tmp/dist.safetensors" > "$tmp/out" 2>&1 || {
		cat "$tmp/out"
		echo "mpitest: distributed training on $np ranks failed"
		exit 1
	}
	timeout 300 "$tmp/myelin" train --shard-size $((32 / np)) --epochs 1 --verbose 0 --out "$tmp/one.safetensors" > /dev/null
	if ! cmp -s "$tmp/dist.safetensors" "$tmp/one.safetensors"; then
		echo "mpitest: $np ranks saved a model other than one process with --shard-size $((32 / np))"
		exit 1
	fi
	grep '^Test:' "$tmp/out"
done

# A rank that dies ends the job: kill one and the others must not hang.
echo "== a killed rank ends the job"
"${mpi[@]}" -np 2 "$tmp/myelin" train --distributed --epochs 50 --verbose 0 --out "" > "$tmp/out" 2>&1 &
job=$!
victim=""
for _ in $(seq 100); do # up to 10 s for the ranks to start training
	victim=$(pgrep -f "$tmp/myelin train --distributed" | grep -v "^$job\$" | tail -1 || true)
	[ -n "$victim" ] && break
	sleep 0.1
done
[ -n "$victim" ] || { echo "mpitest: no rank process to kill"; kill "$job"; exit 1; }
sleep 1
kill -9 "$victim"
start=$SECONDS
for _ in $(seq 300); do # up to 30 s
	kill -0 "$job" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$job" 2>/dev/null; then
	kill -9 "$job"
	echo "mpitest: the job still ran 30 s after a rank was killed"
	exit 1
fi
if wait "$job"; then
	echo "mpitest: the job exited 0 after a rank was killed"
	exit 1
fi
echo "the job ended $((SECONDS - start)) s after a rank was killed, with an error"

# An error on one rank only (rank 0 cannot write --out; the others do not
# write) ends the job with that error, instead of leaving the others
# waiting in a collective call.
echo "== an error on rank 0 ends the job"
: > "$tmp/afile"
if timeout 60 "${mpi[@]}" -np 2 "$tmp/myelin" train --distributed --epochs 1 --verbose 0 --out "$tmp/afile/m.safetensors" > "$tmp/out" 2>&1; then
	cat "$tmp/out"
	echo "mpitest: the job exited 0 though rank 0 could not write its --out"
	exit 1
elif [ $? = 124 ]; then
	cat "$tmp/out"
	echo "mpitest: the job still ran 60 s after rank 0's error"
	exit 1
fi
grep -q "^myelin: error: rank 0: --out $tmp/afile/m.safetensors" "$tmp/out" || { cat "$tmp/out"; echo "mpitest: rank 0's error was not printed"; exit 1; }
echo "the job ended with rank 0's error"
