//go:build amd64 && !noasm

#include "textflag.h"

// GOMAX sets Y0 = Go's max(Y0, Y1): VMAXPS returns its second source on
// a NaN or two zeros, so the two orders ANDed give +0 over -0 (and the
// value itself otherwise), and an unordered pair is ORed to all ones, a
// NaN. Clobbers Y2-Y4.
#define GOMAX \
	VMAXPS Y1, Y0, Y2 \
	VMAXPS Y0, Y1, Y3 \
	VANDPS Y2, Y3, Y2 \
	VCMPPS $3, Y1, Y0, Y4 \
	VORPS  Y4, Y2, Y0

// func maxPool2AVX2(y, r0, r1 []float32, ow, c int)
TEXT ·maxPool2AVX2(SB), NOSPLIT, $0-88
	MOVQ y_base+0(FP), DI
	MOVQ r0_base+24(FP), SI
	MOVQ r1_base+48(FP), BX
	MOVQ ow+72(FP), CX
	MOVQ c+80(FP), R8
	SHLQ $2, R8                 // c in bytes

mp2pixel:
	XORQ DX, DX                 // channel offset, bytes

mp2chan:
	LEAQ (R8)(DX*1), AX         // the second column's offset
	VMOVUPS (SI)(DX*1), Y0
	VMOVUPS (SI)(AX*1), Y1
	GOMAX
	VMOVUPS (BX)(DX*1), Y1
	GOMAX
	VMOVUPS (BX)(AX*1), Y1
	GOMAX
	VMOVUPS Y0, (DI)(DX*1)
	ADDQ $32, DX
	CMPQ DX, R8
	JB   mp2chan

	LEAQ (SI)(R8*2), SI
	LEAQ (BX)(R8*2), BX
	ADDQ R8, DI
	DECQ CX
	JNZ  mp2pixel
	VZEROUPPER
	RET

// TAPBACK adds Y1 (dy) to the gradient at addr where the tap at src
// equals Y0 (the maximum) and no earlier tap did (Y7, the lanes still
// open), as a blend so that an untouched -0 stays -0. Clobbers Y2-Y4.
#define TAPBACK(src, addr) \
	VCMPPS  $0, src, Y0, Y2 \
	VANDPS  Y7, Y2, Y2 \
	VANDNPS Y7, Y2, Y7 \
	VMOVUPS addr, Y3 \
	VADDPS  Y1, Y3, Y4 \
	VBLENDVPS Y2, Y4, Y3, Y3 \
	VMOVUPS Y3, addr

// func maxPool2BackAVX2(d0, d1, r0, r1, y, dy []float32, ow, c int)
TEXT ·maxPool2BackAVX2(SB), NOSPLIT, $0-160
	MOVQ d0_base+0(FP), DI
	MOVQ d1_base+24(FP), R11
	MOVQ r0_base+48(FP), SI
	MOVQ r1_base+72(FP), BX
	MOVQ y_base+96(FP), R12
	MOVQ dy_base+120(FP), R13
	MOVQ ow+144(FP), CX
	MOVQ c+152(FP), R8
	SHLQ $2, R8
	XORQ R9, R9                 // the output's channel offset: y and dy move c per pixel, the rows 2c

mp2bpixel:
	XORQ DX, DX

mp2bchan:
	LEAQ (R8)(DX*1), AX
	LEAQ (R9)(DX*1), R10
	VMOVUPS (R12)(R10*1), Y0
	VMOVUPS (R13)(R10*1), Y1
	VPCMPEQD Y7, Y7, Y7
	TAPBACK((SI)(DX*1), (DI)(DX*1))
	TAPBACK((SI)(AX*1), (DI)(AX*1))
	TAPBACK((BX)(DX*1), (R11)(DX*1))
	TAPBACK((BX)(AX*1), (R11)(AX*1))
	ADDQ $32, DX
	CMPQ DX, R8
	JB   mp2bchan

	LEAQ (SI)(R8*2), SI
	LEAQ (BX)(R8*2), BX
	LEAQ (DI)(R8*2), DI
	LEAQ (R11)(R8*2), R11
	ADDQ R8, R9
	DECQ CX
	JNZ  mp2bpixel
	VZEROUPPER
	RET

// TAPSET writes Y5 (0 + dy) to the gradient at addr where the tap at src
// equals Y0 (the maximum) and no earlier tap did (Y7, the lanes still
// open), and +0 elsewhere. Clobbers Y2-Y3.
#define TAPSET(src, addr) \
	VCMPPS  $0, src, Y0, Y2 \
	VANDPS  Y7, Y2, Y2 \
	VANDNPS Y7, Y2, Y7 \
	VANDPS  Y5, Y2, Y3 \
	VMOVUPS Y3, addr

// func maxPool2BackSetAVX2(d0, d1, r0, r1, y, dy []float32, ow, c int)
TEXT ·maxPool2BackSetAVX2(SB), NOSPLIT, $0-160
	MOVQ d0_base+0(FP), DI
	MOVQ d1_base+24(FP), R11
	MOVQ r0_base+48(FP), SI
	MOVQ r1_base+72(FP), BX
	MOVQ y_base+96(FP), R12
	MOVQ dy_base+120(FP), R13
	MOVQ ow+144(FP), CX
	MOVQ c+152(FP), R8
	SHLQ $2, R8
	XORQ R9, R9
	VXORPS Y6, Y6, Y6

mp2spixel:
	XORQ DX, DX

mp2schan:
	LEAQ (R8)(DX*1), AX
	LEAQ (R9)(DX*1), R10
	VMOVUPS (R12)(R10*1), Y0
	VADDPS (R13)(R10*1), Y6, Y5 // 0 + dy
	VPCMPEQD Y7, Y7, Y7
	TAPSET((SI)(DX*1), (DI)(DX*1))
	TAPSET((SI)(AX*1), (DI)(AX*1))
	TAPSET((BX)(DX*1), (R11)(DX*1))
	TAPSET((BX)(AX*1), (R11)(AX*1))
	ADDQ $32, DX
	CMPQ DX, R8
	JB   mp2schan

	LEAQ (SI)(R8*2), SI
	LEAQ (BX)(R8*2), BX
	LEAQ (DI)(R8*2), DI
	LEAQ (R11)(R8*2), R11
	ADDQ R8, R9
	DECQ CX
	JNZ  mp2spixel
	VZEROUPPER
	RET
