//go:build amd64 && !noasm

#include "textflag.h"

// func epilogueAVX512(y, x *float32, rows, c, c16 int, bias, mean, invstd, gamma, beta *float32, flags int)
//
// Each step is its own rounding, in Epilogue's order; the flags pick the
// steps (epBias 1, epNorm 2, epReLU 4). Branches on the flags
// are taken the same way every time, so they cost next to nothing.
TEXT ·epilogueAVX512(SB), NOSPLIT, $0-88
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ c+24(FP), DX
	SHLQ $2, DX
	MOVQ c16+32(FP), BX
	MOVQ bias+40(FP), R9
	MOVQ mean+48(FP), R10
	MOVQ invstd+56(FP), R11
	MOVQ gamma+64(FP), R12
	MOVQ beta+72(FP), R13
	MOVQ flags+80(FP), R14
	VPXORD Z31, Z31, Z31

ep_row:
	XORQ AX, AX

ep_col:
	VMOVUPS (SI)(AX*4), Z0
	TESTQ $1, R14
	JZ    ep_nobias
	VADDPS (R9)(AX*4), Z0, Z0

ep_nobias:
	TESTQ $2, R14
	JZ    ep_nonorm
	VSUBPS (R10)(AX*4), Z0, Z0
	VMULPS (R11)(AX*4), Z0, Z0
	VMULPS (R12)(AX*4), Z0, Z0
	VADDPS (R13)(AX*4), Z0, Z0

ep_nonorm:
	TESTQ $4, R14
	JZ    ep_store
	VMAXPS Z0, Z31, Z0 // 0 > v ? 0 : v

ep_store:
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ $16, AX
	CMPQ AX, BX
	JB   ep_col
	ADDQ DX, SI
	ADDQ DX, DI
	DECQ CX
	JNZ  ep_row
	VZEROUPPER
	RET
