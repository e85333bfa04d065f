//go:build !noasm

#include "textflag.h"

// The elementwise loops walk index AX over 32 floats (four YMM) a step,
// then 8, then 1; CX holds the length. Only AVX2 is used: these loops are
// bound by memory, and wider vectors would not pay.

// func axpyAVX2(alpha float32, x []float32, y []float32)
// y += alpha*x with a separate multiply and add, as the Go version rounds.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	MOVQ x_base+8(FP), SI
	MOVQ x_len+16(FP), CX
	MOVQ y_base+32(FP), DI
	VBROADCASTSS alpha+0(FP), Y0
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-32, DX
	JZ   axpy8

axpy32:
	// Four vectors of alpha*x, added into y.
	VMULPS (SI)(AX*4), Y0, Y1
	VMULPS 32(SI)(AX*4), Y0, Y2
	VMULPS 64(SI)(AX*4), Y0, Y3
	VMULPS 96(SI)(AX*4), Y0, Y4
	VADDPS (DI)(AX*4), Y1, Y1
	VADDPS 32(DI)(AX*4), Y2, Y2
	VADDPS 64(DI)(AX*4), Y3, Y3
	VADDPS 96(DI)(AX*4), Y4, Y4
	VMOVUPS Y1, (DI)(AX*4)
	VMOVUPS Y2, 32(DI)(AX*4)
	VMOVUPS Y3, 64(DI)(AX*4)
	VMOVUPS Y4, 96(DI)(AX*4)
	ADDQ $32, AX
	CMPQ AX, DX
	JB   axpy32

axpy8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JAE  axpy1

axpy8loop:
	VMULPS (SI)(AX*4), Y0, Y1
	VADDPS (DI)(AX*4), Y1, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, DX
	JB   axpy8loop

axpy1:
	CMPQ AX, CX
	JAE  axpydone

axpy1loop:
	VMULSS (SI)(AX*4), X0, X1
	VADDSS (DI)(AX*4), X1, X1
	VMOVSS X1, (DI)(AX*4)
	INCQ AX
	CMPQ AX, CX
	JB   axpy1loop

axpydone:
	VZEROUPPER
	RET

// func scalAVX2(alpha float32, x []float32)
TEXT ·scalAVX2(SB), NOSPLIT, $0-32
	MOVQ x_base+8(FP), DI
	MOVQ x_len+16(FP), CX
	VBROADCASTSS alpha+0(FP), Y0
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-32, DX
	JZ   scal8

scal32:
	// x *= alpha, four vectors at a time.
	VMULPS (DI)(AX*4), Y0, Y1
	VMULPS 32(DI)(AX*4), Y0, Y2
	VMULPS 64(DI)(AX*4), Y0, Y3
	VMULPS 96(DI)(AX*4), Y0, Y4
	VMOVUPS Y1, (DI)(AX*4)
	VMOVUPS Y2, 32(DI)(AX*4)
	VMOVUPS Y3, 64(DI)(AX*4)
	VMOVUPS Y4, 96(DI)(AX*4)
	ADDQ $32, AX
	CMPQ AX, DX
	JB   scal32

scal8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JAE  scal1

scal8loop:
	VMULPS (DI)(AX*4), Y0, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, DX
	JB   scal8loop

scal1:
	CMPQ AX, CX
	JAE  scaldone

scal1loop:
	VMULSS (DI)(AX*4), X0, X1
	VMOVSS X1, (DI)(AX*4)
	INCQ AX
	CMPQ AX, CX
	JB   scal1loop

scaldone:
	VZEROUPPER
	RET

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

// func dotAVX2(x []float32, y []float32) float32
// Lane j of accumulator i sums elements 32t+8i+j; the 8-wide tail goes to
// accumulator 1 and the last few elements are added one by one.
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ y_base+24(FP), DI
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-32, DX
	JZ   dot8

dot32:
	VMOVUPS (SI)(AX*4), Y5
	VMOVUPS 32(SI)(AX*4), Y6
	VMOVUPS 64(SI)(AX*4), Y7
	VMOVUPS 96(SI)(AX*4), Y8
	VFMADD231PS (DI)(AX*4), Y5, Y1
	VFMADD231PS 32(DI)(AX*4), Y6, Y2
	VFMADD231PS 64(DI)(AX*4), Y7, Y3
	VFMADD231PS 96(DI)(AX*4), Y8, Y4
	ADDQ $32, AX
	CMPQ AX, DX
	JB   dot32

dot8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JAE  dot1

dot8loop:
	VMOVUPS (SI)(AX*4), Y5
	VFMADD231PS (DI)(AX*4), Y5, Y1
	ADDQ $8, AX
	CMPQ AX, DX
	JB   dot8loop

dot1:
	HSUM
	CMPQ AX, CX
	JAE  dotdone

dot1loop:
	VMOVSS (SI)(AX*4), X5
	VFMADD231SS (DI)(AX*4), X5, X1
	INCQ AX
	CMPQ AX, CX
	JB   dot1loop

dotdone:
	VMOVSS X1, ret+48(FP)
	VZEROUPPER
	RET

// func sumAVX2(x []float32) float32
// Same order as dotAVX2 with y = 1.
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

// adamAsm is adamGeneric with c1 = 1-beta1 and c2 = 1-beta2 passed in:
// the same operations in the same order, 8 elements a step.
// func adamAsm(w []float32, g []float32, m []float32, v []float32, lr float32, beta1 float32, beta2 float32, eps float32, biasC1 float32, biasC2 float32, c1 float32, c2 float32)
TEXT ·adamAsm(SB), NOSPLIT, $0-128
	MOVQ w_base+0(FP), DI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ m_base+48(FP), BX
	MOVQ v_base+72(FP), DX
	VBROADCASTSS lr+96(FP), Y14
	VBROADCASTSS beta1+100(FP), Y8
	VBROADCASTSS beta2+104(FP), Y10
	VBROADCASTSS eps+108(FP), Y15
	VBROADCASTSS biasC1+112(FP), Y12
	VBROADCASTSS biasC2+116(FP), Y13
	VBROADCASTSS c1+120(FP), Y9
	VBROADCASTSS c2+124(FP), Y11
	XORQ AX, AX
	MOVQ CX, R8
	ANDQ $-8, R8
	JZ   adam1

adam8:
	// m = beta1*m + c1*g
	VMOVUPS (SI)(AX*4), Y0
	VMULPS (BX)(AX*4), Y8, Y1
	VMULPS Y0, Y9, Y2
	VADDPS Y2, Y1, Y1
	VMOVUPS Y1, (BX)(AX*4)
	// v = beta2*v + (c2*g)*g
	VMULPS (DX)(AX*4), Y10, Y3
	VMULPS Y0, Y11, Y4
	VMULPS Y0, Y4, Y4
	VADDPS Y4, Y3, Y3
	VMOVUPS Y3, (DX)(AX*4)
	// w -= (lr*(m/biasC1)) / (sqrt(v/biasC2) + eps)
	VDIVPS Y12, Y1, Y1
	VMULPS Y1, Y14, Y1
	VDIVPS Y13, Y3, Y3
	VSQRTPS Y3, Y3
	VADDPS Y15, Y3, Y3
	VDIVPS Y3, Y1, Y1
	VMOVUPS (DI)(AX*4), Y5
	VSUBPS Y1, Y5, Y5
	VMOVUPS Y5, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, R8
	JB   adam8

adam1:
	CMPQ AX, CX
	JAE  adamdone

adam1loop:
	// The same steps on one element.
	VMOVSS (SI)(AX*4), X0
	VMULSS (BX)(AX*4), X8, X1
	VMULSS X0, X9, X2
	VADDSS X2, X1, X1
	VMOVSS X1, (BX)(AX*4)
	VMULSS (DX)(AX*4), X10, X3
	VMULSS X0, X11, X4
	VMULSS X0, X4, X4
	VADDSS X4, X3, X3
	VMOVSS X3, (DX)(AX*4)
	VDIVSS X12, X1, X1
	VMULSS X1, X14, X1
	VDIVSS X13, X3, X3
	VSQRTSS X3, X3, X3
	VADDSS X15, X3, X3
	VDIVSS X3, X1, X1
	VMOVSS (DI)(AX*4), X5
	VSUBSS X1, X5, X5
	VMOVSS X5, (DI)(AX*4)
	INCQ AX
	CMPQ AX, CX
	JB   adam1loop

adamdone:
	VZEROUPPER
	RET
