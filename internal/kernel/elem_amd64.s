//go:build !noasm

#include "textflag.h"

// The elementwise loops walk index AX over 32 floats (four YMM) a step,
// then 8, then 1; CX holds the length. Only AVX2 is used: these loops are
// bound by memory, and wider vectors would not pay.

// HSUM leaves in X1's low lane the sum of Y1..Y4: the four accumulators
// pairwise, then the eight lanes by halving. The order is fixed.
#define HSUM \
	VADDPS Y2, Y1, Y1; \
	VADDPS Y4, Y3, Y3; \
	VADDPS Y3, Y1, Y1; \
	VEXTRACTF128 $1, Y1, X2; \
	VADDPS X2, X1, X1; \
	VMOVHLPS X1, X1, X2; \
	VADDPS X2, X1, X1; \
	VMOVSHDUP X1, X2; \
	VADDSS X2, X1, X1

// func sumAVX2(x []float32) float32
// Lane j of accumulator i sums elements 32t+8i+j; the 8-wide tail goes to
// accumulator 1 and the last few elements are added one by one.
TEXT ·sumAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-32, DX
	JZ   sum8

sum32:
	VADDPS (SI)(AX*4), Y1, Y1
	VADDPS 32(SI)(AX*4), Y2, Y2
	VADDPS 64(SI)(AX*4), Y3, Y3
	VADDPS 96(SI)(AX*4), Y4, Y4
	ADDQ $32, AX
	CMPQ AX, DX
	JB   sum32

sum8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JAE  sum1

sum8loop:
	VADDPS (SI)(AX*4), Y1, Y1
	ADDQ $8, AX
	CMPQ AX, DX
	JB   sum8loop

sum1:
	HSUM
	CMPQ AX, CX
	JAE  sumdone

sum1loop:
	VADDSS (SI)(AX*4), X1, X1
	INCQ AX
	CMPQ AX, CX
	JB   sum1loop

sumdone:
	VMOVSS X1, ret+24(FP)
	VZEROUPPER
	RET

// func addAVX2(dst []float32, a []float32, b []float32)
// dst = a + b over len(a) elements.
TEXT ·addAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ a_base+24(FP), SI
	MOVQ a_len+32(FP), CX
	MOVQ b_base+48(FP), BX
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-32, DX
	JZ   add8

add32:
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS 32(SI)(AX*4), Y2
	VMOVUPS 64(SI)(AX*4), Y3
	VMOVUPS 96(SI)(AX*4), Y4
	VADDPS (BX)(AX*4), Y1, Y1
	VADDPS 32(BX)(AX*4), Y2, Y2
	VADDPS 64(BX)(AX*4), Y3, Y3
	VADDPS 96(BX)(AX*4), Y4, Y4
	VMOVUPS Y1, (DI)(AX*4)
	VMOVUPS Y2, 32(DI)(AX*4)
	VMOVUPS Y3, 64(DI)(AX*4)
	VMOVUPS Y4, 96(DI)(AX*4)
	ADDQ $32, AX
	CMPQ AX, DX
	JB   add32

add8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JAE  add1

add8loop:
	VMOVUPS (SI)(AX*4), Y1
	VADDPS (BX)(AX*4), Y1, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, DX
	JB   add8loop

add1:
	CMPQ AX, CX
	JAE  adddone

add1loop:
	VMOVSS (SI)(AX*4), X1
	VADDSS (BX)(AX*4), X1, X1
	VMOVSS X1, (DI)(AX*4)
	INCQ AX
	CMPQ AX, CX
	JB   add1loop

adddone:
	VZEROUPPER
	RET

// func reluAVX2(dst []float32, x []float32)
// VMAXPS with 0 first returns x unless 0 > x, so NaN and -0 pass as in Go.
TEXT ·reluAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-32, DX
	JZ   relu8

relu32:
	VMAXPS (SI)(AX*4), Y0, Y1
	VMAXPS 32(SI)(AX*4), Y0, Y2
	VMAXPS 64(SI)(AX*4), Y0, Y3
	VMAXPS 96(SI)(AX*4), Y0, Y4
	VMOVUPS Y1, (DI)(AX*4)
	VMOVUPS Y2, 32(DI)(AX*4)
	VMOVUPS Y3, 64(DI)(AX*4)
	VMOVUPS Y4, 96(DI)(AX*4)
	ADDQ $32, AX
	CMPQ AX, DX
	JB   relu32

relu8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JAE  relu1

relu8loop:
	VMAXPS (SI)(AX*4), Y0, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, DX
	JB   relu8loop

relu1:
	CMPQ AX, CX
	JAE  reludone

relu1loop:
	VMAXSS (SI)(AX*4), X0, X1
	VMOVSS X1, (DI)(AX*4)
	INCQ AX
	CMPQ AX, CX
	JB   relu1loop

reludone:
	VZEROUPPER
	RET

// func reluGradAVX2(dst []float32, dy []float32, y []float32)
// dst = dy AND (0 < y): an ordered compare, so NaN y gives 0.
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ dy_base+24(FP), SI
	MOVQ y_base+48(FP), BX
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-8, DX
	JZ   rgrad1

rgrad8:
	VCMPPS $0x11, (BX)(AX*4), Y0, Y1
	VANDPS (SI)(AX*4), Y1, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, DX
	JB   rgrad8

rgrad1:
	CMPQ AX, CX
	JAE  rgraddone

rgrad1loop:
	VCMPSS $0x11, (BX)(AX*4), X0, X1
	VMOVSS (SI)(AX*4), X2
	VANDPS X2, X1, X1
	VMOVSS X1, (DI)(AX*4)
	INCQ AX
	CMPQ AX, CX
	JB   rgrad1loop

rgraddone:
	VZEROUPPER
	RET

// func reluGradAddAVX2(dst, dy, x []float32)
// dst[i] += dy[i] where x[i] > 0; elsewhere dst[i] is left as it is (a
// blend, not an add of zero, which would turn -0 into +0).
TEXT ·reluGradAddAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ dy_base+24(FP), SI
	MOVQ x_base+48(FP), BX
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-8, DX
	JZ   rgadd1

rgadd8:
	VCMPPS   $0x11, (BX)(AX*4), Y0, Y1
	VMOVUPS  (DI)(AX*4), Y2
	VADDPS   (SI)(AX*4), Y2, Y3
	VBLENDVPS Y1, Y3, Y2, Y2
	VMOVUPS  Y2, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, DX
	JB   rgadd8

rgadd1:
	CMPQ AX, CX
	JAE  rgadddone

rgadd1loop:
	VCMPSS   $0x11, (BX)(AX*4), X0, X1
	VMOVSS   (DI)(AX*4), X2
	VADDSS   (SI)(AX*4), X2, X3
	VBLENDVPS X1, X3, X2, X2
	VMOVSS   X2, (DI)(AX*4)
	INCQ AX
	CMPQ AX, CX
	JB   rgadd1loop

rgadddone:
	VZEROUPPER
	RET

// ADDROW adds bias register B to the 8 floats at byte offset off of the
// current row of a (SI) and stores them to dst (DI), through T.
#define ADDROW(off, B, T) \
	VADDPS off(SI), B, T; \
	VMOVUPS T, off(DI)

// NEXTROW steps SI and DI one row (DX bytes) on and loops while rows
// (CX) remain.
#define NEXTROW(loop) \
	ADDQ DX, SI; \
	ADDQ DX, DI; \
	DECQ CX; \
	JNZ  loop; \
	JMP  addrowsdone

// func addRowsAVX2(dst []float32, a []float32, row []float32, rows int)
// dst = a + row for each of rows rows of len(row) columns, len(row) a
// multiple of 8 from 8 to 64: the row stays in Y0..Y7 and each column
// count has its own unrolled loop, so a row costs no call and no reload.
TEXT ·addRowsAVX2(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ a_base+24(FP), SI
	MOVQ row_base+48(FP), BX
	MOVQ row_len+56(FP), DX
	MOVQ rows+72(FP), CX
	TESTQ CX, CX
	JZ    addrowsdone
	MOVQ DX, AX
	SHLQ $2, DX
	CMPQ AX, $32
	JB   addrows8or16or24
	JEQ  addrows32
	CMPQ AX, $48
	JB   addrows40
	JEQ  addrows48
	CMPQ AX, $56
	JEQ  addrows56
	JMP  addrows64

addrows8or16or24:
	CMPQ AX, $16
	JB   addrows8
	JEQ  addrows16
	JMP  addrows24

addrows8:
	VMOVUPS (BX), Y0

addrows8loop:
	ADDROW(0, Y0, Y8)
	NEXTROW(addrows8loop)

addrows16:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1

addrows16loop:
	ADDROW(0, Y0, Y8)
	ADDROW(32, Y1, Y9)
	NEXTROW(addrows16loop)

addrows24:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS 64(BX), Y2

addrows24loop:
	ADDROW(0, Y0, Y8)
	ADDROW(32, Y1, Y9)
	ADDROW(64, Y2, Y10)
	NEXTROW(addrows24loop)

addrows32:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS 64(BX), Y2
	VMOVUPS 96(BX), Y3

addrows32loop:
	ADDROW(0, Y0, Y8)
	ADDROW(32, Y1, Y9)
	ADDROW(64, Y2, Y10)
	ADDROW(96, Y3, Y11)
	NEXTROW(addrows32loop)

addrows40:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS 64(BX), Y2
	VMOVUPS 96(BX), Y3
	VMOVUPS 128(BX), Y4

addrows40loop:
	ADDROW(0, Y0, Y8)
	ADDROW(32, Y1, Y9)
	ADDROW(64, Y2, Y10)
	ADDROW(96, Y3, Y11)
	ADDROW(128, Y4, Y12)
	NEXTROW(addrows40loop)

addrows48:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS 64(BX), Y2
	VMOVUPS 96(BX), Y3
	VMOVUPS 128(BX), Y4
	VMOVUPS 160(BX), Y5

addrows48loop:
	ADDROW(0, Y0, Y8)
	ADDROW(32, Y1, Y9)
	ADDROW(64, Y2, Y10)
	ADDROW(96, Y3, Y11)
	ADDROW(128, Y4, Y12)
	ADDROW(160, Y5, Y13)
	NEXTROW(addrows48loop)

addrows56:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS 64(BX), Y2
	VMOVUPS 96(BX), Y3
	VMOVUPS 128(BX), Y4
	VMOVUPS 160(BX), Y5
	VMOVUPS 192(BX), Y6

addrows56loop:
	ADDROW(0, Y0, Y8)
	ADDROW(32, Y1, Y9)
	ADDROW(64, Y2, Y10)
	ADDROW(96, Y3, Y11)
	ADDROW(128, Y4, Y12)
	ADDROW(160, Y5, Y13)
	ADDROW(192, Y6, Y14)
	NEXTROW(addrows56loop)

addrows64:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS 64(BX), Y2
	VMOVUPS 96(BX), Y3
	VMOVUPS 128(BX), Y4
	VMOVUPS 160(BX), Y5
	VMOVUPS 192(BX), Y6
	VMOVUPS 224(BX), Y7

addrows64loop:
	ADDROW(0, Y0, Y8)
	ADDROW(32, Y1, Y9)
	ADDROW(64, Y2, Y10)
	ADDROW(96, Y3, Y11)
	ADDROW(128, Y4, Y12)
	ADDROW(160, Y5, Y13)
	ADDROW(192, Y6, Y14)
	ADDROW(224, Y7, Y15)
	NEXTROW(addrows64loop)

addrowsdone:
	VZEROUPPER
	RET
