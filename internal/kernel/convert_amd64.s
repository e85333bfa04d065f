//go:build !noasm

#include "textflag.h"

// func uint8ToFloat32AVX2(dst []float32, src []uint8, div float32)
// Bytes are widened to int32 (VPMOVZXBD), converted exactly to float32
// (VCVTDQ2PS: every byte is representable) and divided (VDIVPS), one
// rounding per element as in Go. 32 bytes a step, then 8; len(src) is a
// multiple of 8.
TEXT ·uint8ToFloat32AVX2(SB), NOSPLIT, $0-52
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	VBROADCASTSS div+48(FP), Y0
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-32, DX
	JZ   u8c8

u8c32:
	VPMOVZXBD (SI)(AX*1), Y1
	VPMOVZXBD 8(SI)(AX*1), Y2
	VPMOVZXBD 16(SI)(AX*1), Y3
	VPMOVZXBD 24(SI)(AX*1), Y4
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VCVTDQ2PS Y4, Y4
	VDIVPS Y0, Y1, Y1
	VDIVPS Y0, Y2, Y2
	VDIVPS Y0, Y3, Y3
	VDIVPS Y0, Y4, Y4
	VMOVUPS Y1, (DI)(AX*4)
	VMOVUPS Y2, 32(DI)(AX*4)
	VMOVUPS Y3, 64(DI)(AX*4)
	VMOVUPS Y4, 96(DI)(AX*4)
	ADDQ $32, AX
	CMPQ AX, DX
	JB   u8c32

u8c8:
	CMPQ AX, CX
	JAE  u8cdone

u8c8loop:
	VPMOVZXBD (SI)(AX*1), Y1
	VCVTDQ2PS Y1, Y1
	VDIVPS Y0, Y1, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JB   u8c8loop

u8cdone:
	VZEROUPPER
	RET
