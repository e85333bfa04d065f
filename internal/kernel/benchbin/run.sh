#!/bin/bash
# Device benchmark script (temporary, not committed).
cd "$(dirname "$0")"
O=${OUT:-/tmp/out}; mkdir -p $O/t
{ lscpu | grep -E 'Model name|^CPU\(s\)|Thread|MHz|L1d|L2|L3|Flags' | cut -c1-300; nproc; } > $O/t/cpu.txt 2>&1
./k.test -test.run . -test.count 1 > $O/tests.txt 2>&1; echo "tests rc=$?" >> $O/tests.txt
./peak.test -test.bench 'Z|Y' -test.benchtime 300ms -test.count 3 -test.cpu 1 > $O/t/peak.txt 2>&1
for kc in 64 256 512; do ./k.test -test.run - -test.bench MicroKernel -test.benchtime 200ms -test.count 3 -test.cpu 1 -kernel.ukc $kc; done > $O/t/micro.txt 2>&1
./k.test -test.run - -test.bench 'Sgemm/.*/asm' -test.benchtime 200ms -test.count 3 -test.cpu 1,2,4 > $O/sgemm.txt 2>&1
./k.test -test.run - -test.bench 'Sgemm/.*/generic' -test.benchtime 200ms -test.count 1 -test.cpu 1 > $O/generic.txt 2>&1
S='Sgemm/(fwd_128|fwd_32x784|NN_512|NN_1024|NT_512|dX)[^/]*/asm$'
for kc in 128 192 384 512; do echo "== kc=$kc"; ./k.test -test.run - -test.bench "$S" -test.benchtime 200ms -test.count 3 -test.cpu 1 -kernel.kc $kc; done > $O/t/tune_kc.txt 2>&1
for nc in 256 1024 2048; do echo "== nc=$nc"; ./k.test -test.run - -test.bench "$S" -test.benchtime 200ms -test.count 3 -test.cpu 1 -kernel.nc $nc; done > $O/t/tune_nc.txt 2>&1
for d in 0 64 512; do echo "== directm=$d"; ./k.test -test.run - -test.bench 'Sgemm/(fwd|NN_512)[^/]*/asm$' -test.benchtime 200ms -test.count 3 -test.cpu 1 -kernel.directm $d; done > $O/t/tune_direct.txt 2>&1
for p in 0 64 1000000; do echo "== packan=$p"; ./k.test -test.run - -test.bench 'Sgemm/(fwd|dW|dX|NN_512|TN_512)[^/]*/asm$' -test.benchtime 200ms -test.count 3 -test.cpu 1 -kernel.packan $p; done > $O/t/tune_packa.txt 2>&1
./k.test -test.run - -test.bench Elementwise -test.benchtime 100ms -test.count 1 -test.cpu 1 > $O/elem.txt 2>&1
echo done
cd $O && tar czf all.tgz t && rm -rf t
