//go:build amd64 && !noasm

#include "textflag.h"

// func im2colWindowsAVX2(dst []float32, src []float32, n, kh, kwc, step, rowStride int)
// Each window row (kwc floats, DX bytes) goes in blocks of 128 bytes, then
// of 32, then one last 32-byte block ending at the row's end that may
// overlap the one before: it rewrites the same values, and saves a scalar
// tail. Only loads and stores, so NaN payloads and -0 pass unchanged.
TEXT ·im2colWindowsAVX2(SB), NOSPLIT, $0-88
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ n+48(FP), CX
	MOVQ kh+56(FP), R8
	MOVQ kwc+64(FP), DX
	SHLQ $2, DX
	MOVQ step+72(FP), R9
	SHLQ $2, R9
	MOVQ rowStride+80(FP), R10
	SHLQ $2, R10
	LEAQ -128(DX), R13 // the last offset a 128-byte block may start at
	LEAQ -32(DX), R14  // the last offset a 32-byte block may start at

win:
	MOVQ SI, R11
	MOVQ R8, R12

seg:
	XORQ AX, AX
	CMPQ AX, R13
	JGT  seg32

seg128:
	VMOVUPS (R11)(AX*1), Y0
	VMOVUPS 32(R11)(AX*1), Y1
	VMOVUPS 64(R11)(AX*1), Y2
	VMOVUPS 96(R11)(AX*1), Y3
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	VMOVUPS Y2, 64(DI)(AX*1)
	VMOVUPS Y3, 96(DI)(AX*1)
	ADDQ $128, AX
	CMPQ AX, R13
	JLE  seg128

seg32:
	CMPQ AX, R14
	JGT  segtail
	VMOVUPS (R11)(AX*1), Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	JMP  seg32

segtail:
	CMPQ AX, DX
	JEQ  segnext
	VMOVUPS (R11)(R14*1), Y0
	VMOVUPS Y0, (DI)(R14*1)

segnext:
	ADDQ DX, DI
	ADDQ R10, R11
	DECQ R12
	JNZ  seg
	ADDQ R9, SI
	DECQ CX
	JNZ  win
	VZEROUPPER
	RET
