//go:build amd64 && !noasm

#include "textflag.h"

// Batch norm fused with ReLU (see bnrelu.go). The same register plan as
// bn_amd64.s: rows in CX, row stride in bytes in DX, c8 in BX, the column
// in AX; Y15 holds zeros. z = x̂·γ + β is a multiply then an add (no fused
// multiply-add), as in the Go reference.

// RELU_DZ loads x̂ into Y2 from xhat and sets Y0 to the ReLU's input
// gradient: 0 + dy (from (SI)(AX*4)) where z = x̂·γ + β > 0, +0
// elsewhere. Clobbers Y3.
#define RELU_DZ(xhat, gamma, beta) \
	VMOVUPS xhat, Y2 \
	VMULPS  gamma, Y2, Y3 \
	VADDPS  beta, Y3, Y3 \
	VCMPPS  $0x11, Y3, Y15, Y3 \
	VADDPS  (SI)(AX*4), Y15, Y0 \
	VANDPS  Y3, Y0, Y0

// func normRowsReLUAVX2(y, xhat, x, mean, invstd, gamma, beta []float32, rows, c, c8 int)
TEXT ·normRowsReLUAVX2(SB), NOSPLIT, $0-192
	MOVQ y_base+0(FP), DI
	MOVQ xhat_base+24(FP), R8
	MOVQ x_base+48(FP), SI
	MOVQ mean_base+72(FP), R9
	MOVQ invstd_base+96(FP), R10
	MOVQ gamma_base+120(FP), R11
	MOVQ beta_base+144(FP), R12
	MOVQ rows+168(FP), CX
	MOVQ c+176(FP), DX
	SHLQ $2, DX
	MOVQ c8+184(FP), BX
	VXORPS Y15, Y15, Y15

nr_row:
	XORQ AX, AX

nr_col:
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS (R9)(AX*4), Y0, Y0
	VMULPS (R10)(AX*4), Y0, Y0
	VMOVUPS Y0, (R8)(AX*4)
	VMULPS (R11)(AX*4), Y0, Y0
	VADDPS (R12)(AX*4), Y0, Y0
	VMAXPS Y0, Y15, Y0 // 0 > z ? 0 : z
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, BX
	JB   nr_col
	ADDQ DX, SI
	ADDQ DX, R8
	ADDQ DX, DI
	DECQ CX
	JNZ  nr_row
	VZEROUPPER
	RET

// func bnBwdSumsReLUAVX2(sdy, sdyx, dy, xhat, gamma, beta []float32, rows, c, c8 int)
TEXT ·bnBwdSumsReLUAVX2(SB), NOSPLIT, $0-168
	MOVQ sdy_base+0(FP), DI
	MOVQ sdyx_base+24(FP), R8
	MOVQ dy_base+48(FP), SI
	MOVQ xhat_base+72(FP), R9
	MOVQ gamma_base+96(FP), R10
	MOVQ beta_base+120(FP), R11
	MOVQ rows+144(FP), CX
	MOVQ c+152(FP), DX
	SHLQ $2, DX
	MOVQ c8+160(FP), BX
	VXORPS Y15, Y15, Y15

bs_row:
	XORQ AX, AX

bs_col:
	RELU_DZ((R9)(AX*4), (R10)(AX*4), (R11)(AX*4))
	VMULPS Y2, Y0, Y1
	VADDPS (DI)(AX*4), Y0, Y0
	VADDPS (R8)(AX*4), Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, (R8)(AX*4)
	ADDQ $8, AX
	CMPQ AX, BX
	JB   bs_col
	ADDQ DX, SI
	ADDQ DX, R9
	DECQ CX
	JNZ  bs_row
	VZEROUPPER
	RET

// func bnBwdInputReLUAVX2(dx, dy, xhat, k, sdy, sdyx, gamma, beta []float32, rows, c, c8 int, add bool)
TEXT ·bnBwdInputReLUAVX2(SB), NOSPLIT, $0-217
	MOVQ dx_base+0(FP), DI
	MOVQ dy_base+24(FP), SI
	MOVQ xhat_base+48(FP), R8
	MOVQ k_base+72(FP), R9
	MOVQ sdy_base+96(FP), R10
	MOVQ sdyx_base+120(FP), R11
	MOVQ gamma_base+144(FP), R12
	MOVQ beta_base+168(FP), R13
	MOVQ rows+192(FP), CX
	MOVQ c+200(FP), DX
	SHLQ $2, DX
	MOVQ c8+208(FP), BX
	MOVBLZX add+216(FP), R14
	VXORPS Y15, Y15, Y15

bi_row:
	XORQ AX, AX

bi_col:
	RELU_DZ((R8)(AX*4), (R12)(AX*4), (R13)(AX*4))
	VSUBPS (R10)(AX*4), Y0, Y0
	VMULPS (R11)(AX*4), Y2, Y1
	VSUBPS Y1, Y0, Y0
	VMULPS (R9)(AX*4), Y0, Y0
	TESTQ R14, R14
	JZ   bi_set
	VADDPS (DI)(AX*4), Y0, Y0
	JMP  bi_store

bi_set:
	VADDPS Y15, Y0, Y0              // 0 + v: the bits of a cleared buffer's add

bi_store:
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, BX
	JB   bi_col
	ADDQ DX, SI
	ADDQ DX, R8
	ADDQ DX, DI
	DECQ CX
	JNZ  bi_row
	VZEROUPPER
	RET
