//go:build !noasm

#include "textflag.h"

// Register use in both micro-kernels:
//   CX  remaining k steps        BX  B row p         R10 B step (ksb)
//   SI  A rows 0-3 at step p     DX  A rows 4-7      R9  A step (ksa)
//   R8  A row stride (rsa)       R12 3*rsa           DI  C row, R11 ldc
// Row r of A is (SI)(0, R8, 2*R8, R12) for r < 4 and the same from DX.

// FMA2ROWS512 accumulates rows r and r+1 (A values at ma, mb) into
// Z(acc..acc+3) from the B halves in Z0, Z1.
#define FMA2ROWS512(ma, mb, a0, a1, a2, a3) \
	VBROADCASTSS ma, Z2; \
	VBROADCASTSS mb, Z3; \
	VFMADD231PS Z0, Z2, a0; \
	VFMADD231PS Z1, Z2, a1; \
	VFMADD231PS Z0, Z3, a2; \
	VFMADD231PS Z1, Z3, a3

// STORE512 writes one row: C = alpha*acc + beta*C (Z0 = alpha, Z1 = beta).
#define STORE512(lo, hi) \
	VMULPS Z0, lo, lo; \
	VMULPS Z0, hi, hi; \
	VFMADD231PS (DI), Z1, lo; \
	VFMADD231PS 64(DI), Z1, hi; \
	VMOVUPS lo, (DI); \
	VMOVUPS hi, 64(DI); \
	ADDQ R11, DI

// STORE512B0 writes one row without reading C: C = alpha*acc.
#define STORE512B0(lo, hi) \
	VMULPS Z0, lo, lo; \
	VMULPS Z0, hi, hi; \
	VMOVUPS lo, (DI); \
	VMOVUPS hi, 64(DI); \
	ADDQ R11, DI

// STORE512M is STORE512 for an edge tile: only the columns in K1:K2 are
// read or written, and it leaves after the last row (R13 counts them).
#define STORE512M(lo, hi, done) \
	VMULPS Z0, lo, lo; \
	VMULPS Z0, hi, hi; \
	VMOVUPS.Z (DI), K1, Z2; \
	VMOVUPS.Z 64(DI), K2, Z3; \
	VFMADD231PS Z2, Z1, lo; \
	VFMADD231PS Z3, Z1, hi; \
	VMOVUPS lo, K1, (DI); \
	VMOVUPS hi, K2, 64(DI); \
	ADDQ R11, DI; \
	DECQ R13; \
	JZ done

// STORE512MB0 is STORE512M without reading C (beta == 0).
#define STORE512MB0(lo, hi, done) \
	VMULPS Z0, lo, lo; \
	VMULPS Z0, hi, hi; \
	VMOVUPS lo, K1, (DI); \
	VMOVUPS hi, K2, 64(DI); \
	ADDQ R11, DI; \
	DECQ R13; \
	JZ done

// func sgemmKernel8x32AVX512(kc int, a *float32, rsa uintptr, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha float32, beta float32, flags uint64)
TEXT ·sgemmKernel8x32AVX512(SB), NOSPLIT, $0-80
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R8
	MOVQ ksa+24(FP), R9
	MOVQ b+32(FP), BX
	MOVQ ksb+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R11
	LEAQ (R8)(R8*2), R12
	LEAQ (SI)(R8*4), DX

	// Column masks from flags bits 32-63 into K1 (0-15) and K2 (16-31);
	// masked-off B columns load as zero and are never touched in memory.
	MOVQ flags+72(FP), AX
	MOVQ AX, R13
	SHRQ $32, R13
	KMOVW R13, K1
	SHRQ $16, R13
	KMOVW R13, K2

	// Start pulling the C tile in; it is needed only at the end.
	MOVQ DI, R13
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	ADDQ R11, R13
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	ADDQ R11, R13
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	ADDQ R11, R13
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	ADDQ R11, R13
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	ADDQ R11, R13
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	ADDQ R11, R13
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	ADDQ R11, R13
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)

	// Accumulators: row r in Z(16+2r), Z(17+2r).
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31

	// At most 16 columns (K2 empty): the high half would be all zeros, so
	// run the loop that does only the low half's FMAs.
	KORTESTW K2, K2
	JZ   loop512lo

loop512:
	// One k step: B row into Z0, Z1 (zero-masked, so no read past an
	// edge); A column broadcast row by row.
	VMOVUPS.Z (BX), K1, Z0
	VMOVUPS.Z 64(BX), K2, Z1
	FMA2ROWS512((SI), (SI)(R8*1), Z16, Z17, Z18, Z19)
	FMA2ROWS512((SI)(R8*2), (SI)(R12*1), Z20, Z21, Z22, Z23)
	FMA2ROWS512((DX), (DX)(R8*1), Z24, Z25, Z26, Z27)
	FMA2ROWS512((DX)(R8*2), (DX)(R12*1), Z28, Z29, Z30, Z31)
	ADDQ R9, SI
	ADDQ R9, DX
	ADDQ R10, BX
	DECQ CX
	JNZ  loop512

stores512:
	// Edge tile (fewer than 8 rows or a partial mask): masked stores.
	VBROADCASTSS alpha+64(FP), Z0
	VBROADCASTSS beta+68(FP), Z1
	MOVQ AX, R13
	SHRQ $8, R13
	ANDQ $0xff, R13
	MOVQ AX, CX
	SHRQ $32, CX
	CMPQ CX, $0xffffffff
	JNE  edge512
	CMPQ R13, $8
	JNE  edge512

	TESTQ $1, AX
	JNZ  beta0512
	STORE512(Z16, Z17)
	STORE512(Z18, Z19)
	STORE512(Z20, Z21)
	STORE512(Z22, Z23)
	STORE512(Z24, Z25)
	STORE512(Z26, Z27)
	STORE512(Z28, Z29)
	STORE512(Z30, Z31)
	VZEROUPPER
	RET

beta0512:
	STORE512B0(Z16, Z17)
	STORE512B0(Z18, Z19)
	STORE512B0(Z20, Z21)
	STORE512B0(Z22, Z23)
	STORE512B0(Z24, Z25)
	STORE512B0(Z26, Z27)
	STORE512B0(Z28, Z29)
	STORE512B0(Z30, Z31)
	VZEROUPPER
	RET

loop512lo:
	// One k step for columns 0-15 only: B row into Z0, then each row's
	// A value broadcast into its FMA (high accumulators stay zero).
	VMOVUPS.Z (BX), K1, Z0
	VFMADD231PS.BCST (SI), Z0, Z16
	VFMADD231PS.BCST (SI)(R8*1), Z0, Z18
	VFMADD231PS.BCST (SI)(R8*2), Z0, Z20
	VFMADD231PS.BCST (SI)(R12*1), Z0, Z22
	VFMADD231PS.BCST (DX), Z0, Z24
	VFMADD231PS.BCST (DX)(R8*1), Z0, Z26
	VFMADD231PS.BCST (DX)(R8*2), Z0, Z28
	VFMADD231PS.BCST (DX)(R12*1), Z0, Z30
	ADDQ R9, SI
	ADDQ R9, DX
	ADDQ R10, BX
	DECQ CX
	JNZ  loop512lo
	JMP  stores512

edge512:
	TESTQ $1, AX
	JNZ  edgeb0512

edgerows512:
	STORE512M(Z16, Z17, done512)
	STORE512M(Z18, Z19, done512)
	STORE512M(Z20, Z21, done512)
	STORE512M(Z22, Z23, done512)
	STORE512M(Z24, Z25, done512)
	STORE512M(Z26, Z27, done512)
	STORE512M(Z28, Z29, done512)
	STORE512M(Z30, Z31, done512)

done512:
	VZEROUPPER
	RET

edgeb0512:
	STORE512MB0(Z16, Z17, done512)
	STORE512MB0(Z18, Z19, done512)
	STORE512MB0(Z20, Z21, done512)
	STORE512MB0(Z22, Z23, done512)
	STORE512MB0(Z24, Z25, done512)
	STORE512MB0(Z26, Z27, done512)
	STORE512MB0(Z28, Z29, done512)
	STORE512MB0(Z30, Z31, done512)
	VZEROUPPER
	RET

// The tall kernel (up to 12 rows of 32 columns) for products with few
// rows: one tile holds all of C's rows where the 8-row kernel needed a
// second, mostly empty one (a 3×3 convolution's 9 rows), and it reads
// only the rows of A that flags gives, so edge tiles need no packing.
// Register use as in the 8×32 kernel, with rows 8-11 of A from AX;
// accumulators: row r in Z(8+2r), Z(9+2r).

// TROW accumulates one row (A value at m, broadcast through t).
#define TROW(m, t, lo, hi) \
	VBROADCASTSS m, t; \
	VFMADD231PS Z0, t, lo; \
	VFMADD231PS Z1, t, hi

// TROWSn accumulates rows 0..n-1; TLROWSn does it for the low half only.
#define TROWS1 TROW((SI), Z2, Z8, Z9)
#define TLROWS1 VFMADD231PS.BCST (SI), Z0, Z8
#define TROWS2 TROWS1; TROW((SI)(R8*1), Z3, Z10, Z11)
#define TLROWS2 TLROWS1; VFMADD231PS.BCST (SI)(R8*1), Z0, Z10
#define TROWS3 TROWS2; TROW((SI)(R8*2), Z2, Z12, Z13)
#define TLROWS3 TLROWS2; VFMADD231PS.BCST (SI)(R8*2), Z0, Z12
#define TROWS4 TROWS3; TROW((SI)(R12*1), Z3, Z14, Z15)
#define TLROWS4 TLROWS3; VFMADD231PS.BCST (SI)(R12*1), Z0, Z14
#define TROWS5 TROWS4; TROW((DX), Z2, Z16, Z17)
#define TLROWS5 TLROWS4; VFMADD231PS.BCST (DX), Z0, Z16
#define TROWS6 TROWS5; TROW((DX)(R8*1), Z3, Z18, Z19)
#define TLROWS6 TLROWS5; VFMADD231PS.BCST (DX)(R8*1), Z0, Z18
#define TROWS7 TROWS6; TROW((DX)(R8*2), Z2, Z20, Z21)
#define TLROWS7 TLROWS6; VFMADD231PS.BCST (DX)(R8*2), Z0, Z20
#define TROWS8 TROWS7; TROW((DX)(R12*1), Z3, Z22, Z23)
#define TLROWS8 TLROWS7; VFMADD231PS.BCST (DX)(R12*1), Z0, Z22
#define TROWS9 TROWS8; TROW((AX), Z2, Z24, Z25)
#define TLROWS9 TLROWS8; VFMADD231PS.BCST (AX), Z0, Z24
#define TROWS10 TROWS9; TROW((AX)(R8*1), Z3, Z26, Z27)
#define TLROWS10 TLROWS9; VFMADD231PS.BCST (AX)(R8*1), Z0, Z26
#define TROWS11 TROWS10; TROW((AX)(R8*2), Z2, Z28, Z29)
#define TLROWS11 TLROWS10; VFMADD231PS.BCST (AX)(R8*2), Z0, Z28
#define TROWS12 TROWS11; TROW((AX)(R12*1), Z3, Z30, Z31)
#define TLROWS12 TLROWS11; VFMADD231PS.BCST (AX)(R12*1), Z0, Z30

// TNEXT moves A and B one k step on and counts it.
#define TNEXT \
	ADDQ R9, SI; \
	ADDQ R9, DX; \
	ADDQ R9, AX; \
	ADDQ R10, BX; \
	DECQ CX

// TLOOP is the k loop for one row count: B row into Z0, Z1, then rows.
// B comes in place from memory (one pass over it for all the rows):
// fetching it eight steps ahead gained 15-20% on the 9×43264×32 product.
#define TLOOP(lbl, rows) \
lbl: \
	VMOVUPS.Z (BX), K1, Z0; \
	VMOVUPS.Z 64(BX), K2, Z1; \
	PREFETCHT0 (BX)(R10*8); \
	PREFETCHT0 64(BX)(R10*8); \
	rows; \
	TNEXT; \
	JNZ lbl; \
	JMP tallstores

// TLOOPLO is TLOOP for at most 16 columns: the low half only, A values
// broadcast into the FMAs.
#define TLOOPLO(lbl, rows) \
lbl: \
	VMOVUPS.Z (BX), K1, Z0; \
	PREFETCHT0 (BX)(R10*8); \
	rows; \
	TNEXT; \
	JNZ lbl; \
	JMP tallstores

// func sgemmKernel12x32AVX512(kc int, a *float32, rsa uintptr, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha float32, beta float32, flags uint64)
TEXT ·sgemmKernel12x32AVX512(SB), NOSPLIT, $0-80
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R8
	MOVQ ksa+24(FP), R9
	MOVQ b+32(FP), BX
	MOVQ ksb+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R11
	LEAQ (R8)(R8*2), R12
	LEAQ (SI)(R8*4), DX
	LEAQ (DX)(R8*4), AX

	// Column masks into K1, K2 as in the 8×32 kernel.
	MOVQ flags+72(FP), R13
	SHRQ $32, R13
	KMOVW R13, K1
	SHRQ $16, R13
	KMOVW R13, K2

	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31

	// The loop for the row count (flags bits 8-15), the low half's alone
	// when K2 is empty.
	MOVQ flags+72(FP), R13
	SHRQ $8, R13
	ANDQ $0xff, R13
	KORTESTW K2, K2
	JZ   tallsel16
	CMPQ R13, $1
	JEQ  tall1
	CMPQ R13, $2
	JEQ  tall2
	CMPQ R13, $3
	JEQ  tall3
	CMPQ R13, $4
	JEQ  tall4
	CMPQ R13, $5
	JEQ  tall5
	CMPQ R13, $6
	JEQ  tall6
	CMPQ R13, $7
	JEQ  tall7
	CMPQ R13, $8
	JEQ  tall8
	CMPQ R13, $9
	JEQ  tall9
	CMPQ R13, $10
	JEQ  tall10
	CMPQ R13, $11
	JEQ  tall11
	JMP  tall12

tallsel16:
	CMPQ R13, $1
	JEQ  tall1lo
	CMPQ R13, $2
	JEQ  tall2lo
	CMPQ R13, $3
	JEQ  tall3lo
	CMPQ R13, $4
	JEQ  tall4lo
	CMPQ R13, $5
	JEQ  tall5lo
	CMPQ R13, $6
	JEQ  tall6lo
	CMPQ R13, $7
	JEQ  tall7lo
	CMPQ R13, $8
	JEQ  tall8lo
	CMPQ R13, $9
	JEQ  tall9lo
	CMPQ R13, $10
	JEQ  tall10lo
	CMPQ R13, $11
	JEQ  tall11lo
	JMP  tall12lo

	TLOOP(tall1, TROWS1)
	TLOOP(tall2, TROWS2)
	TLOOP(tall3, TROWS3)
	TLOOP(tall4, TROWS4)
	TLOOP(tall5, TROWS5)
	TLOOP(tall6, TROWS6)
	TLOOP(tall7, TROWS7)
	TLOOP(tall8, TROWS8)
	TLOOP(tall9, TROWS9)
	TLOOP(tall10, TROWS10)
	TLOOP(tall11, TROWS11)
	TLOOP(tall12, TROWS12)
	TLOOPLO(tall1lo, TLROWS1)
	TLOOPLO(tall2lo, TLROWS2)
	TLOOPLO(tall3lo, TLROWS3)
	TLOOPLO(tall4lo, TLROWS4)
	TLOOPLO(tall5lo, TLROWS5)
	TLOOPLO(tall6lo, TLROWS6)
	TLOOPLO(tall7lo, TLROWS7)
	TLOOPLO(tall8lo, TLROWS8)
	TLOOPLO(tall9lo, TLROWS9)
	TLOOPLO(tall10lo, TLROWS10)
	TLOOPLO(tall11lo, TLROWS11)
	TLOOPLO(tall12lo, TLROWS12)

tallstores:
	// The rows given, masked to the columns given (R13 counts the rows).
	VBROADCASTSS alpha+64(FP), Z0
	VBROADCASTSS beta+68(FP), Z1
	MOVQ flags+72(FP), AX
	MOVQ AX, R13
	SHRQ $8, R13
	ANDQ $0xff, R13
	TESTQ $1, AX
	JNZ  tallb0
	STORE512M(Z8, Z9, talldone)
	STORE512M(Z10, Z11, talldone)
	STORE512M(Z12, Z13, talldone)
	STORE512M(Z14, Z15, talldone)
	STORE512M(Z16, Z17, talldone)
	STORE512M(Z18, Z19, talldone)
	STORE512M(Z20, Z21, talldone)
	STORE512M(Z22, Z23, talldone)
	STORE512M(Z24, Z25, talldone)
	STORE512M(Z26, Z27, talldone)
	STORE512M(Z28, Z29, talldone)
	STORE512M(Z30, Z31, talldone)

talldone:
	VZEROUPPER
	RET

tallb0:
	STORE512MB0(Z8, Z9, talldone)
	STORE512MB0(Z10, Z11, talldone)
	STORE512MB0(Z12, Z13, talldone)
	STORE512MB0(Z14, Z15, talldone)
	STORE512MB0(Z16, Z17, talldone)
	STORE512MB0(Z18, Z19, talldone)
	STORE512MB0(Z20, Z21, talldone)
	STORE512MB0(Z22, Z23, talldone)
	STORE512MB0(Z24, Z25, talldone)
	STORE512MB0(Z26, Z27, talldone)
	STORE512MB0(Z28, Z29, talldone)
	STORE512MB0(Z30, Z31, talldone)
	VZEROUPPER
	RET

// func sgemmKernel1x64AVX512(kc int, a *float32, rsa uintptr, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha float32, beta float32, flags uint64)
// One row of C, up to 64 columns (the small-m kernel): four accumulators,
// one per 16 columns, so four independent FMA chains per k step and no
// work for absent rows. rsa and ldc are unused (one row).
TEXT ·sgemmKernel1x64AVX512(SB), NOSPLIT, $0-80
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ ksa+24(FP), R9
	MOVQ b+32(FP), BX
	MOVQ ksb+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ flags+72(FP), AX

	// Column count (flags bits 16-23) to a 64-bit mask, split 16 bits
	// each into K1 (columns 0-15) .. K4 (48-63). BZHI keeps all 64 bits
	// when the count is 64.
	MOVQ AX, R13
	SHRQ $16, R13
	ANDQ $0xff, R13
	MOVQ $-1, R12
	BZHIQ R13, R12, R12
	KMOVW R12, K1
	SHRQ $16, R12
	KMOVW R12, K2
	SHRQ $16, R12
	KMOVW R12, K3
	SHRQ $16, R12
	KMOVW R12, K4

	// Accumulators: columns 16v..16v+15 in Z(16+v).
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19

loop1x64:
	// One k step: broadcast A(0,p), then acc += A(0,p)*B(p,·) straight
	// from memory; masked-off lanes are neither read nor changed.
	VBROADCASTSS (SI), Z0
	VFMADD231PS (BX), Z0, K1, Z16
	VFMADD231PS 64(BX), Z0, K2, Z17
	VFMADD231PS 128(BX), Z0, K3, Z18
	VFMADD231PS 192(BX), Z0, K4, Z19
	ADDQ R9, SI
	ADDQ R10, BX
	DECQ CX
	JNZ  loop1x64

	// acc *= alpha, as the 8×32 kernel does.
	VBROADCASTSS alpha+64(FP), Z0
	VMULPS Z0, Z16, Z16
	VMULPS Z0, Z17, Z17
	VMULPS Z0, Z18, Z18
	VMULPS Z0, Z19, Z19
	TESTQ $1, AX
	JNZ  store1x64

	// acc += beta*C, fused, reading only the columns in the masks.
	VBROADCASTSS beta+68(FP), Z1
	VMOVUPS.Z (DI), K1, Z2
	VMOVUPS.Z 64(DI), K2, Z3
	VMOVUPS.Z 128(DI), K3, Z4
	VMOVUPS.Z 192(DI), K4, Z5
	VFMADD231PS Z2, Z1, Z16
	VFMADD231PS Z3, Z1, Z17
	VFMADD231PS Z4, Z1, Z18
	VFMADD231PS Z5, Z1, Z19

store1x64:
	// C = acc, masked.
	VMOVUPS Z16, K1, (DI)
	VMOVUPS Z17, K2, 64(DI)
	VMOVUPS Z18, K3, 128(DI)
	VMOVUPS Z19, K4, 192(DI)
	VZEROUPPER
	RET

// func sgemmKernel1x32AVX2(kc int, a *float32, rsa uintptr, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha float32, beta float32, flags uint64)
// The small-m kernel for AVX2: one row of 32 columns, four accumulators
// of 8. Full tiles only (the driver packs and merges edges).
TEXT ·sgemmKernel1x32AVX2(SB), NOSPLIT, $0-80
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ ksa+24(FP), R9
	MOVQ b+32(FP), BX
	MOVQ ksb+40(FP), R10
	MOVQ c+48(FP), DI

	// Accumulators: columns 8v..8v+7 in Y(4+v).
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

loop1x32:
	// One k step: broadcast A(0,p), acc += A(0,p)*B(p,·) from memory.
	VBROADCASTSS (SI), Y0
	VFMADD231PS (BX), Y0, Y4
	VFMADD231PS 32(BX), Y0, Y5
	VFMADD231PS 64(BX), Y0, Y6
	VFMADD231PS 96(BX), Y0, Y7
	ADDQ R9, SI
	ADDQ R10, BX
	DECQ CX
	JNZ  loop1x32

	// acc *= alpha; then C = acc (beta == 0) or acc + beta*C, fused.
	VBROADCASTSS alpha+64(FP), Y0
	VMULPS Y0, Y4, Y4
	VMULPS Y0, Y5, Y5
	VMULPS Y0, Y6, Y6
	VMULPS Y0, Y7, Y7
	MOVQ flags+72(FP), AX
	TESTQ $1, AX
	JNZ  store1x32
	VBROADCASTSS beta+68(FP), Y1
	VFMADD231PS (DI), Y1, Y4
	VFMADD231PS 32(DI), Y1, Y5
	VFMADD231PS 64(DI), Y1, Y6
	VFMADD231PS 96(DI), Y1, Y7

store1x32:
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	VMOVUPS Y6, 64(DI)
	VMOVUPS Y7, 96(DI)
	VZEROUPPER
	RET

// FMA2ROWS256 is FMA2ROWS512 for the 6×16 AVX2 tile (B halves in Y0, Y1).
#define FMA2ROWS256(ma, mb, a0, a1, a2, a3) \
	VBROADCASTSS ma, Y2; \
	VBROADCASTSS mb, Y3; \
	VFMADD231PS Y0, Y2, a0; \
	VFMADD231PS Y1, Y2, a1; \
	VFMADD231PS Y0, Y3, a2; \
	VFMADD231PS Y1, Y3, a3

// STORE256 writes one row: C = alpha*acc + beta*C (Y0 = alpha, Y1 = beta).
#define STORE256(lo, hi) \
	VMULPS Y0, lo, lo; \
	VMULPS Y0, hi, hi; \
	VFMADD231PS (DI), Y1, lo; \
	VFMADD231PS 32(DI), Y1, hi; \
	VMOVUPS lo, (DI); \
	VMOVUPS hi, 32(DI); \
	ADDQ R11, DI

// STORE256B0 writes one row without reading C: C = alpha*acc.
#define STORE256B0(lo, hi) \
	VMULPS Y0, lo, lo; \
	VMULPS Y0, hi, hi; \
	VMOVUPS lo, (DI); \
	VMOVUPS hi, 32(DI); \
	ADDQ R11, DI

// func sgemmKernel6x16AVX2(kc int, a *float32, rsa uintptr, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha float32, beta float32, flags uint64)
TEXT ·sgemmKernel6x16AVX2(SB), NOSPLIT, $0-80
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R8
	MOVQ ksa+24(FP), R9
	MOVQ b+32(FP), BX
	MOVQ ksb+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R11
	LEAQ (R8)(R8*2), R12
	LEAQ (SI)(R8*4), DX

	// Accumulators: row r in Y(4+2r), Y(5+2r).
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15

loop256:
	// One k step: B row into Y0, Y1; six A values broadcast.
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	FMA2ROWS256((SI), (SI)(R8*1), Y4, Y5, Y6, Y7)
	FMA2ROWS256((SI)(R8*2), (SI)(R12*1), Y8, Y9, Y10, Y11)
	FMA2ROWS256((DX), (DX)(R8*1), Y12, Y13, Y14, Y15)
	ADDQ R9, SI
	ADDQ R9, DX
	ADDQ R10, BX
	DECQ CX
	JNZ  loop256

	VBROADCASTSS alpha+64(FP), Y0
	MOVQ flags+72(FP), AX
	TESTQ $1, AX
	JNZ  beta0256

	VBROADCASTSS beta+68(FP), Y1
	STORE256(Y4, Y5)
	STORE256(Y6, Y7)
	STORE256(Y8, Y9)
	STORE256(Y10, Y11)
	STORE256(Y12, Y13)
	STORE256(Y14, Y15)
	VZEROUPPER
	RET

beta0256:
	STORE256B0(Y4, Y5)
	STORE256B0(Y6, Y7)
	STORE256B0(Y8, Y9)
	STORE256B0(Y10, Y11)
	STORE256B0(Y12, Y13)
	STORE256B0(Y14, Y15)
	VZEROUPPER
	RET

// func packBT8x8AVX(dst *float32, src *float32, ldb int, kc8 int, w8 int, nr int)
// dst[q*nr+c] = src[c*ldb+q] for q < kc8, c < w8 (both multiples of 8,
// both > 0), by 8×8 transposes in registers: rows c0..c0+7 of src, eight
// floats each, become rows q0..q0+7 of dst.
TEXT ·packBT8x8AVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), AX
	MOVQ kc8+24(FP), R9
	MOVQ w8+32(FP), R10
	MOVQ nr+40(FP), R11
	SHLQ $2, AX              // src row stride in bytes
	SHLQ $2, R11             // dst row stride in bytes
	LEAQ (AX)(AX*2), R12     // 3 src rows
	LEAQ (R11)(R11*2), R13   // 3 dst rows

cblock:
	// Next eight src rows (dst columns): SI rows 0-3, R8 rows 4-7; BX, DX
	// walk along q; CX counts the 8-wide q steps.
	MOVQ SI, BX
	LEAQ (SI)(AX*4), DX
	MOVQ DI, R8
	MOVQ R9, CX
	SHRQ $3, CX

qblock:
	// Load the 8×8 block: row i is src[(c0+i)*ldb + q0 .. +7].
	VMOVUPS (BX), Y0
	VMOVUPS (BX)(AX*1), Y1
	VMOVUPS (BX)(AX*2), Y2
	VMOVUPS (BX)(R12*1), Y3
	VMOVUPS (DX), Y4
	VMOVUPS (DX)(AX*1), Y5
	VMOVUPS (DX)(AX*2), Y6
	VMOVUPS (DX)(R12*1), Y7

	// Interleave row pairs: Y8 = r0[0]r1[0]r0[1]r1[1] | r0[4]r1[4]r0[5]r1[5], etc.
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	// Combine pairs into quads: Y0 = column 0 of rows 0-3 | column 4, etc.
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	// Join the 128-bit halves: Y8 = column 0 of all eight rows, ..., Y15 = column 7.
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	// Store column j as dst row q0+j.
	VMOVUPS Y8, (R8)
	VMOVUPS Y9, (R8)(R11*1)
	VMOVUPS Y10, (R8)(R11*2)
	VMOVUPS Y11, (R8)(R13*1)
	LEAQ (R8)(R11*4), R8
	VMOVUPS Y12, (R8)
	VMOVUPS Y13, (R8)(R11*1)
	VMOVUPS Y14, (R8)(R11*2)
	VMOVUPS Y15, (R8)(R13*1)

	// Next eight q: src 32 bytes on, dst eight rows on.
	ADDQ $32, BX
	ADDQ $32, DX
	LEAQ (R8)(R11*4), R8
	DECQ CX
	JNZ  qblock

	// Next eight columns: src eight rows on, dst 32 bytes on.
	LEAQ (SI)(AX*8), SI
	ADDQ $32, DI
	SUBQ $8, R10
	JNZ  cblock
	VZEROUPPER
	RET
