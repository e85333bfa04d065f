//go:build amd64 && !noasm

#include "textflag.h"

// All loops: rows in CX, row stride in bytes in DX, c8 in BX, the column
// in AX. Row pointers advance by DX; per-column slices stay put.

// func colSumsAVX2(s []float64, x []float32, rows, c, c8 int)
TEXT ·colSumsAVX2(SB), NOSPLIT, $0-72
	MOVQ s_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ rows+48(FP), CX
	MOVQ c+56(FP), DX
	SHLQ $2, DX
	MOVQ c8+64(FP), BX

colsums_row:
	XORQ AX, AX

colsums_col:
	VCVTPS2PD (SI)(AX*4), Y0
	VCVTPS2PD 16(SI)(AX*4), Y1
	VADDPD (DI)(AX*8), Y0, Y0
	VADDPD 32(DI)(AX*8), Y1, Y1
	VMOVUPD Y0, (DI)(AX*8)
	VMOVUPD Y1, 32(DI)(AX*8)
	ADDQ $8, AX
	CMPQ AX, BX
	JB   colsums_col
	ADDQ DX, SI
	DECQ CX
	JNZ  colsums_row
	VZEROUPPER
	RET

// func colSqDevAVX2(s []float64, x, mean []float32, rows, c, c8 int)
TEXT ·colSqDevAVX2(SB), NOSPLIT, $0-96
	MOVQ s_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ mean_base+48(FP), R8
	MOVQ rows+72(FP), CX
	MOVQ c+80(FP), DX
	SHLQ $2, DX
	MOVQ c8+88(FP), BX

sqdev_row:
	XORQ AX, AX

sqdev_col:
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS (R8)(AX*4), Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VCVTPS2PD X0, Y0
	VCVTPS2PD X1, Y1
	VMULPD Y0, Y0, Y0
	VMULPD Y1, Y1, Y1
	VADDPD (DI)(AX*8), Y0, Y0
	VADDPD 32(DI)(AX*8), Y1, Y1
	VMOVUPD Y0, (DI)(AX*8)
	VMOVUPD Y1, 32(DI)(AX*8)
	ADDQ $8, AX
	CMPQ AX, BX
	JB   sqdev_col
	ADDQ DX, SI
	DECQ CX
	JNZ  sqdev_row
	VZEROUPPER
	RET

// func normRowsAVX2(y, xhat, x, mean, invstd, gamma, beta []float32, rows, c, c8 int)
TEXT ·normRowsAVX2(SB), NOSPLIT, $0-192
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

norm_row:
	XORQ AX, AX

norm_col:
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS (R9)(AX*4), Y0, Y0
	VMULPS (R10)(AX*4), Y0, Y0
	VMOVUPS Y0, (R8)(AX*4)
	VMULPS (R11)(AX*4), Y0, Y0
	VADDPS (R12)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, BX
	JB   norm_col
	ADDQ DX, SI
	ADDQ DX, R8
	ADDQ DX, DI
	DECQ CX
	JNZ  norm_row
	VZEROUPPER
	RET

// func bnBwdSumsAVX2(sdy, sdyx, dy, xhat []float32, rows, c, c8 int)
TEXT ·bnBwdSumsAVX2(SB), NOSPLIT, $0-120
	MOVQ sdy_base+0(FP), DI
	MOVQ sdyx_base+24(FP), R8
	MOVQ dy_base+48(FP), SI
	MOVQ xhat_base+72(FP), R9
	MOVQ rows+96(FP), CX
	MOVQ c+104(FP), DX
	SHLQ $2, DX
	MOVQ c8+112(FP), BX

bwdsums_row:
	XORQ AX, AX

bwdsums_col:
	VMOVUPS (SI)(AX*4), Y0
	VMULPS (R9)(AX*4), Y0, Y1
	VADDPS (DI)(AX*4), Y0, Y0
	VADDPS (R8)(AX*4), Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, (R8)(AX*4)
	ADDQ $8, AX
	CMPQ AX, BX
	JB   bwdsums_col
	ADDQ DX, SI
	ADDQ DX, R9
	DECQ CX
	JNZ  bwdsums_row
	VZEROUPPER
	RET

// func bnBwdInputAVX2(dx, dy, xhat, k, sdy, sdyx []float32, rows, c, c8 int)
TEXT ·bnBwdInputAVX2(SB), NOSPLIT, $0-168
	MOVQ dx_base+0(FP), DI
	MOVQ dy_base+24(FP), SI
	MOVQ xhat_base+48(FP), R8
	MOVQ k_base+72(FP), R9
	MOVQ sdy_base+96(FP), R10
	MOVQ sdyx_base+120(FP), R11
	MOVQ rows+144(FP), CX
	MOVQ c+152(FP), DX
	SHLQ $2, DX
	MOVQ c8+160(FP), BX

bwdin_row:
	XORQ AX, AX

bwdin_col:
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS (R10)(AX*4), Y0, Y0
	VMOVUPS (R8)(AX*4), Y1
	VMULPS (R11)(AX*4), Y1, Y1
	VSUBPS Y1, Y0, Y0
	VMULPS (R9)(AX*4), Y0, Y0
	VADDPS (DI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, BX
	JB   bwdin_col
	ADDQ DX, SI
	ADDQ DX, R8
	ADDQ DX, DI
	DECQ CX
	JNZ  bwdin_row
	VZEROUPPER
	RET

// func addColSumsAVX2(dst, x []float32, rows, c, c8 int)
// Column blocks of 32, then of 8, each summed down all the rows.
TEXT ·addColSumsAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ rows+48(FP), CX
	MOVQ c+56(FP), DX
	SHLQ $2, DX
	MOVQ c8+64(FP), BX
	XORQ AX, AX

acs_block32:
	MOVQ BX, R8
	SUBQ AX, R8
	CMPQ R8, $32
	JB   acs_block8
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS 32(DI)(AX*4), Y1
	VMOVUPS 64(DI)(AX*4), Y2
	VMOVUPS 96(DI)(AX*4), Y3
	LEAQ (SI)(AX*4), R9
	MOVQ CX, R10

acs_rows32:
	VADDPS (R9), Y0, Y0
	VADDPS 32(R9), Y1, Y1
	VADDPS 64(R9), Y2, Y2
	VADDPS 96(R9), Y3, Y3
	ADDQ DX, R9
	DECQ R10
	JNZ  acs_rows32
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ $32, AX
	JMP  acs_block32

acs_block8:
	CMPQ AX, BX
	JAE  acs_done
	VMOVUPS (DI)(AX*4), Y0
	LEAQ (SI)(AX*4), R9
	MOVQ CX, R10

acs_rows8:
	VADDPS (R9), Y0, Y0
	ADDQ DX, R9
	DECQ R10
	JNZ  acs_rows8
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP  acs_block8

acs_done:
	VZEROUPPER
	RET
