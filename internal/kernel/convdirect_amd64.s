//go:build !noasm

#include "textflag.h"

// The direct convolution kernels (see convdirect_amd64.go): one image,
// one group of 32 (or 16) filters, tiles of 8 output pixels.
//
// Tiles run on across output rows: the tile's 8 pixels are the next 8
// outputs of the image, whichever rows they are in, so that only the
// image's last tile can be short.
//
// Register use in the tap loop:
//   SI, DI, R8-R13  the tile's 8 pixels (window top-left values)
//   BX  end of the tap offsets    CX  tap index, -k up to 0
//   DX  this tap's byte offset    R14 this tap's weight row
//   AX  ld (weight and output row stride, bytes)
//   Z0, Z1 the weight row         Z2, Z3 broadcast inputs
//   Z16-Z31 accumulators          Z4-Z13 epilogue vectors, Z14 zero
// Frame: cur the next tile's first pixel, owl the outputs left in its
// row, left the outputs left in the image, yp where they go, wrap the
// step from a row's last pixel to the next row's first. The flags bits
// are epBias (1), epNorm (2) and epReLU (4).

// SETUP loads the loop-invariant registers and frame slots.
#define SETUP \
	MOVQ offs+24(FP), BX; \
	MOVQ k+32(FP), CX; \
	LEAQ (BX)(CX*8), BX; \
	MOVQ ld+72(FP), AX; \
	MOVQ x+8(FP), SI; \
	MOVQ SI, cur-8(SP); \
	MOVQ ow+48(FP), SI; \
	MOVQ SI, owl-16(SP); \
	MOVQ oh+40(FP), DI; \
	IMULQ SI, DI; \
	MOVQ DI, left-24(SP); \
	MOVQ y+0(FP), DI; \
	MOVQ DI, yp-32(SP); \
	DECQ SI; \
	IMULQ pix+56(FP), SI; \
	MOVQ row+64(FP), DI; \
	SUBQ SI, DI; \
	MOVQ DI, wrap-40(SP); \
	VPXORD Z14, Z14, Z14

// PIXEL sets p to the pixel at R14 and moves R14 to the next one, to the
// next row's first when CX, the outputs left in the row, runs out.
#define PIXEL(p) \
	MOVQ R14, p; \
	MOVQ pix+56(FP), DX; \
	DECQ CX; \
	CMOVQEQ wrap-40(SP), DX; \
	CMOVQEQ ow+48(FP), CX; \
	ADDQ DX, R14

// PTRS8 sets the tile's pixel pointers SI, DI, R8-R13. In the image's
// last tile those past its last pixel are held at it, so that they read
// only the image (they compute copies of that pixel, not stored).
#define PTRS8(full) \
	MOVQ cur-8(SP), R14; \
	MOVQ owl-16(SP), CX; \
	PIXEL(SI); \
	PIXEL(DI); \
	PIXEL(R8); \
	PIXEL(R9); \
	PIXEL(R10); \
	PIXEL(R11); \
	PIXEL(R12); \
	PIXEL(R13); \
	MOVQ R14, cur-8(SP); \
	MOVQ CX, owl-16(SP); \
	MOVQ left-24(SP), CX; \
	CMPQ CX, $8; \
	JGE  full; \
	CMPQ CX, $1; \
	CMOVQLE SI, DI; \
	CMPQ CX, $2; \
	CMOVQLE DI, R8; \
	CMPQ CX, $3; \
	CMOVQLE R8, R9; \
	CMPQ CX, $4; \
	CMOVQLE R9, R10; \
	CMPQ CX, $5; \
	CMOVQLE R10, R11; \
	CMPQ CX, $6; \
	CMOVQLE R11, R12; \
	CMPQ CX, $7; \
	CMOVQLE R12, R13; \
full:

// NEXT moves to the next tile (jumping to tile), or falls through when
// the image is done; R14 is past the tile's last output.
#define NEXT(tile) \
	MOVQ R14, yp-32(SP); \
	SUBQ $8, left-24(SP); \
	JG   tile

// TAP32 adds one tap of one pixel (at p) to its two accumulators, the
// input broadcast into t. The input is the FMA's first factor and the
// weights its second, as in the GEMM's 32-column loops: of two NaN
// factors the first survives.
#define TAP32(p, t, lo, hi) \
	VBROADCASTSS (p)(DX*1), t; \
	VFMADD231PS Z0, t, lo; \
	VFMADD231PS Z1, t, hi

// OP32 applies op with the vectors va, vb to the 16 accumulators, each
// rounded apart as ApplyEpilogue rounds them; the accumulator is the
// first source, so that of two NaNs its own survives.
#define OP32(op, va, vb) \
	op va, Z16, Z16; \
	op vb, Z17, Z17; \
	op va, Z18, Z18; \
	op vb, Z19, Z19; \
	op va, Z20, Z20; \
	op vb, Z21, Z21; \
	op va, Z22, Z22; \
	op vb, Z23, Z23; \
	op va, Z24, Z24; \
	op vb, Z25, Z25; \
	op va, Z26, Z26; \
	op vb, Z27, Z27; \
	op va, Z28, Z28; \
	op vb, Z29, Z29; \
	op va, Z30, Z30; \
	op vb, Z31, Z31

// MAX0 is ReLU on one accumulator: MAX(0, v) gives its second source, v,
// when v is NaN or either zero, so NaN and −0 pass as in Go's v < 0 test.
#define MAX0(v) VMAXPS v, Z14, v

// STORE32 writes one pixel's 32 outputs and leaves after the image's
// last.
#define STORE32(lo, hi, done) \
	VMOVUPS lo, (R14); \
	VMOVUPS hi, 64(R14); \
	ADDQ AX, R14; \
	DECQ CX; \
	JZ   done

// func convDirect32AVX512(y, x, w *float32, offs *int, k, oh, ow, pix, row, ld int, bias, mean, invstd, gamma, beta *float32, flags int)
TEXT ·convDirect32AVX512(SB), NOSPLIT, $40-128
	SETUP
	MOVQ flags+120(FP), DX
	TESTQ $1, DX
	JZ   nobias
	MOVQ bias+80(FP), R14
	VMOVUPS (R14), Z4
	VMOVUPS 64(R14), Z5

nobias:
	TESTQ $2, DX
	JZ   tile
	MOVQ mean+88(FP), R14
	VMOVUPS (R14), Z6
	VMOVUPS 64(R14), Z7
	MOVQ invstd+96(FP), R14
	VMOVUPS (R14), Z8
	VMOVUPS 64(R14), Z9
	MOVQ gamma+104(FP), R14
	VMOVUPS (R14), Z10
	VMOVUPS 64(R14), Z11
	MOVQ beta+112(FP), R14
	VMOVUPS (R14), Z12
	VMOVUPS 64(R14), Z13

tile:
	PTRS8(full)
	MOVQ k+32(FP), CX
	NEGQ CX
	MOVQ w+16(FP), R14
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

tap:
	MOVQ (BX)(CX*8), DX
	VMOVUPS (R14), Z0
	VMOVUPS 64(R14), Z1
	TAP32(SI, Z2, Z16, Z17)
	TAP32(DI, Z3, Z18, Z19)
	TAP32(R8, Z2, Z20, Z21)
	TAP32(R9, Z3, Z22, Z23)
	TAP32(R10, Z2, Z24, Z25)
	TAP32(R11, Z3, Z26, Z27)
	TAP32(R12, Z2, Z28, Z29)
	TAP32(R13, Z3, Z30, Z31)
	ADDQ AX, R14
	INCQ CX
	JNZ  tap

	// The epilogue, stage by stage, each rounded.
	MOVQ flags+120(FP), DX
	TESTQ $1, DX
	JZ   epinorm
	OP32(VADDPS, Z4, Z5)

epinorm:
	TESTQ $2, DX
	JZ   epirelu
	OP32(VSUBPS, Z6, Z7)
	OP32(VMULPS, Z8, Z9)
	OP32(VMULPS, Z10, Z11)
	OP32(VADDPS, Z12, Z13)

epirelu:
	TESTQ $4, DX
	JZ   store
	MAX0(Z16)
	MAX0(Z17)
	MAX0(Z18)
	MAX0(Z19)
	MAX0(Z20)
	MAX0(Z21)
	MAX0(Z22)
	MAX0(Z23)
	MAX0(Z24)
	MAX0(Z25)
	MAX0(Z26)
	MAX0(Z27)
	MAX0(Z28)
	MAX0(Z29)
	MAX0(Z30)
	MAX0(Z31)

store:
	MOVQ yp-32(SP), R14
	MOVQ left-24(SP), CX
	STORE32(Z16, Z17, stored)
	STORE32(Z18, Z19, stored)
	STORE32(Z20, Z21, stored)
	STORE32(Z22, Z23, stored)
	STORE32(Z24, Z25, stored)
	STORE32(Z26, Z27, stored)
	STORE32(Z28, Z29, stored)
	STORE32(Z30, Z31, stored)

stored:
	NEXT(tile)
	VZEROUPPER
	RET

// TAP16 adds one tap of one pixel (at p) to its accumulator, the input
// broadcast from memory: the FMA's second factor, as in the GEMM's
// 16-column loops (but not its one-row kernel, which convDirectFits
// leaves to the GEMM).
#define TAP16(p, acc) VFMADD231PS.BCST (p)(DX*1), Z0, acc

// OP16 is OP32 for the 8 accumulators of 16 filters.
#define OP16(op, v) \
	op v, Z16, Z16; \
	op v, Z17, Z17; \
	op v, Z18, Z18; \
	op v, Z19, Z19; \
	op v, Z20, Z20; \
	op v, Z21, Z21; \
	op v, Z22, Z22; \
	op v, Z23, Z23

// STORE16 is STORE32 for 16 outputs.
#define STORE16(v, done) \
	VMOVUPS v, (R14); \
	ADDQ AX, R14; \
	DECQ CX; \
	JZ   done

// func convDirect16AVX512(y, x, w *float32, offs *int, k, oh, ow, pix, row, ld int, bias, mean, invstd, gamma, beta *float32, flags int)
TEXT ·convDirect16AVX512(SB), NOSPLIT, $40-128
	SETUP
	MOVQ flags+120(FP), DX
	TESTQ $1, DX
	JZ   nobias
	MOVQ bias+80(FP), R14
	VMOVUPS (R14), Z4

nobias:
	TESTQ $2, DX
	JZ   tile
	MOVQ mean+88(FP), R14
	VMOVUPS (R14), Z6
	MOVQ invstd+96(FP), R14
	VMOVUPS (R14), Z8
	MOVQ gamma+104(FP), R14
	VMOVUPS (R14), Z10
	MOVQ beta+112(FP), R14
	VMOVUPS (R14), Z12

tile:
	PTRS8(full)
	MOVQ k+32(FP), CX
	NEGQ CX
	MOVQ w+16(FP), R14
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

tap:
	MOVQ (BX)(CX*8), DX
	VMOVUPS (R14), Z0
	TAP16(SI, Z16)
	TAP16(DI, Z17)
	TAP16(R8, Z18)
	TAP16(R9, Z19)
	TAP16(R10, Z20)
	TAP16(R11, Z21)
	TAP16(R12, Z22)
	TAP16(R13, Z23)
	ADDQ AX, R14
	INCQ CX
	JNZ  tap

	MOVQ flags+120(FP), DX
	TESTQ $1, DX
	JZ   epinorm
	OP16(VADDPS, Z4)

epinorm:
	TESTQ $2, DX
	JZ   epirelu
	OP16(VSUBPS, Z6)
	OP16(VMULPS, Z8)
	OP16(VMULPS, Z10)
	OP16(VADDPS, Z12)

epirelu:
	TESTQ $4, DX
	JZ   store
	MAX0(Z16)
	MAX0(Z17)
	MAX0(Z18)
	MAX0(Z19)
	MAX0(Z20)
	MAX0(Z21)
	MAX0(Z22)
	MAX0(Z23)

store:
	MOVQ yp-32(SP), R14
	MOVQ left-24(SP), CX
	STORE16(Z16, stored)
	STORE16(Z17, stored)
	STORE16(Z18, stored)
	STORE16(Z19, stored)
	STORE16(Z20, stored)
	STORE16(Z21, stored)
	STORE16(Z22, stored)
	STORE16(Z23, stored)

stored:
	NEXT(tile)
	VZEROUPPER
	RET
