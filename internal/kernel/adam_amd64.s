//go:build amd64 && !noasm

#include "textflag.h"

// func adamStepAVX2(w, g, m, v []float32, a, r, eps, c1, c2, s float32)
// Same operations, in the same order, as adamGeneric (cv = 0): no FMA, so every
// lane rounds exactly as the scalar loop does.
TEXT ·adamStepAVX2(SB), NOSPLIT, $0-120
	MOVQ w_base+0(FP), DI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	VBROADCASTSS a+96(FP), Y8    // a
	VBROADCASTSS r+100(FP), Y9   // r
	VBROADCASTSS eps+104(FP), Y10 // eps
	VBROADCASTSS c1+108(FP), Y11 // c1
	VBROADCASTSS c2+112(FP), Y12 // c2
	VBROADCASTSS s+116(FP), Y13  // s
	MOVL $0x7fffffff, AX         // |x| mask
	VMOVQ AX, X14                // VEX, not MOVQ: see TestAsmNoLegacySSE
	VPBROADCASTD X14, Y14
	MOVL $0x00800000, AX         // 2⁻¹²⁶, the smallest normal float32
	VMOVQ AX, X15
	VPBROADCASTD X15, Y15
	XORQ AX, AX
	TESTQ CX, CX
	JZ   done

loop:
	// gi = g*s
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  Y13, Y0, Y0
	// m = flush(m + (gi-m)*c1)
	VMOVUPS (R8)(AX*4), Y1
	VSUBPS  Y1, Y0, Y2
	VMULPS  Y11, Y2, Y2
	VADDPS  Y2, Y1, Y1
	VANDPS  Y14, Y1, Y3
	VCMPPS  $1, Y15, Y3, Y3      // |m| < 2⁻¹²⁶
	VANDNPS Y1, Y3, Y1           // zero those lanes
	VMOVUPS Y1, (R8)(AX*4)
	// v = flush(v + (gi*gi-v)*c2)
	VMULPS  Y0, Y0, Y4
	VMOVUPS (R9)(AX*4), Y5
	VSUBPS  Y5, Y4, Y4
	VMULPS  Y12, Y4, Y4
	VADDPS  Y4, Y5, Y5
	VANDPS  Y14, Y5, Y6
	VCMPPS  $1, Y15, Y6, Y6
	VANDNPS Y5, Y6, Y5
	VMOVUPS Y5, (R9)(AX*4)
	// w -= a*m / (sqrt(v)*r + eps)
	VSQRTPS Y5, Y6
	VMULPS  Y9, Y6, Y6
	VADDPS  Y10, Y6, Y6
	VMULPS  Y8, Y1, Y7
	VDIVPS  Y6, Y7, Y7
	VMOVUPS (DI)(AX*4), Y0
	VSUBPS  Y7, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JB      loop

done:
	VZEROUPPER
	RET

// func adamStepAVX512(w, g, m, v []float32, a, r, eps, c1, c2, s, tm, tv float32, screen uint32)
// adamStepAVX2 on 16 lanes: the same operations in the same order, so
// the same bits; a flushed lane is set to +0 by a masked move, as the
// AND-NOT sets it.
//
// A subnormal result or operand costs Intel cores a microcode assist of
// a hundred cycles or more per instruction, and the moments of weights
// whose gradient stays zero decay through the subnormal range (a·m and
// (g²-v)·c2 underflow for thousands of steps). So a vector with a moment
// below tm or tv (adamTiny: where such products may underflow) is listed
// at once, and the others are computed with MXCSR's flush-to-zero set,
// reading its underflow flag (UE, which flushing sets even for an exact
// result) after each: a vector that underflowed anyway is listed too,
// not stored. The listed vectors (32 at most at a time) are computed
// again in float64, in the caller's mode, each operation rounded to
// float32 at once: the bits of float32 arithmetic (see adamVia64) without
// a subnormal float32 in any arithmetic instruction. Flush-to-zero changes
// nothing else (subnormal operands, which only g and w can hold, are used
// as they are), so every vector stored has the default mode's bits. The
// caller's MXCSR, flags included, is restored before returning; assembly
// is never preempted asynchronously, so no other goroutine runs in
// between. With screen 0 (cores other than Intel's, adamScreen) it lists
// nothing and computes every vector in the caller's mode, subnormals and
// all.

// R32 rounds the float64 lanes of z to float32 and back (y is z's low half).
#define R32(z, y) VCVTPD2PS z, y; VCVTPS2PD y, z

// FLUSH64 zeroes the lanes of z below 2⁻¹²⁶ in magnitude (Z23), as the
// float32 flush does; Z24 is the float64 |x| mask, Z16 zeros.
#define FLUSH64(z) VANDPD Z24, z, Z31; VCMPPD $1, Z23, Z31, K1; VMOVAPD Z16, K1, z

// ADAM64 redoes the 8 lanes at byte offset off of the vector at AX in
// float64: g Z25, m Z26, v Z27, temporaries Z28-Z31. Operand order
// follows the float32 loop's, so a NaN that survives there survives here.
#define ADAM64(off) \
	VCVTPS2PD off(SI)(AX*4), Z25; \
	VMULPD    Z17, Z25, Z25; R32(Z25, Y25); \
	VCVTPS2PD off(R8)(AX*4), Z26; \
	VSUBPD    Z26, Z25, Z28; R32(Z28, Y28); \
	VMULPD    Z18, Z28, Z28; R32(Z28, Y28); \
	VADDPD    Z28, Z26, Z26; R32(Z26, Y26); \
	FLUSH64(Z26); \
	VMULPD    Z25, Z25, Z28; R32(Z28, Y28); \
	VCVTPS2PD off(R9)(AX*4), Z27; \
	VSUBPD    Z27, Z28, Z28; R32(Z28, Y28); \
	VMULPD    Z19, Z28, Z28; R32(Z28, Y28); \
	VADDPD    Z28, Z27, Z27; R32(Z27, Y27); \
	FLUSH64(Z27); \
	VSQRTPD   Z27, Z29; R32(Z29, Y29); \
	VMULPD    Z20, Z29, Z29; R32(Z29, Y29); \
	VADDPD    Z21, Z29, Z29; R32(Z29, Y29); \
	VMULPD    Z22, Z26, Z30; R32(Z30, Y30); \
	VDIVPD    Z29, Z30, Z30; R32(Z30, Y30); \
	VCVTPS2PD off(DI)(AX*4), Z28; \
	VSUBPD    Z30, Z28, Z28; \
	VCVTPD2PS Z28, Y28; \
	VMOVUPS   Y28, off(DI)(AX*4); \
	VCVTPD2PS Z26, Y26; \
	VMOVUPS   Y26, off(R8)(AX*4); \
	VCVTPD2PS Z27, Y27; \
	VMOVUPS   Y27, off(R9)(AX*4)

// BCAST64 broadcasts the float32 argument at arg as a float64 into z.
#define BCAST64(arg, z) VMOVSS arg, X31; VCVTSS2SD X31, X31, X31; VBROADCASTSD X31, z

TEXT ·adamStepAVX512(SB), NOSPLIT, $264-132
	STMXCSR 0(SP)                // the caller's MXCSR
	MOVL screen+128(FP), DX      // 0: compute in the caller's mode, list nothing
	TESTL DX, DX
	JZ   mode512
	MOVL 0(SP), R10
	ORL  $0x8000, R10            // flush to zero
	ANDL $0xFFFFFFC0, R10        // no flags
	MOVL R10, 4(SP)
	LDMXCSR 4(SP)

mode512:
	MOVQ w_base+0(FP), DI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	VBROADCASTSS a+96(FP), Z8    // a
	VBROADCASTSS r+100(FP), Z9   // r
	VBROADCASTSS eps+104(FP), Z10 // eps
	VBROADCASTSS c1+108(FP), Z11 // c1
	VBROADCASTSS c2+112(FP), Z12 // c2
	VBROADCASTSS s+116(FP), Z13  // s
	MOVL $0x7fffffff, AX         // |x| mask
	VMOVQ AX, X14
	VPBROADCASTD X14, Z14
	MOVL $0x00800000, AX         // 2⁻¹²⁶, the smallest normal float32
	VMOVQ AX, X15
	VPBROADCASTD X15, Z15
	VPXORD Z16, Z16, Z16         // zeros
	VBROADCASTSS tm+120(FP), Z20 // moments this small go to the list at once
	VBROADCASTSS tv+124(FP), Z21
	XORQ AX, AX
	XORQ R11, R11                // vectors listed for redoing, at 8(SP)
	TESTQ CX, CX
	JZ   done512

loop512:
	// A moment decaying towards the subnormal range lists its vector
	// before any arithmetic: computing it first would underflow and set
	// MXCSR's flag, and on Intel cores setting that flag costs about as
	// much as the assist it replaces.
	VMOVUPS (R8)(AX*4), Z1
	VMOVUPS (R9)(AX*4), Z5
	VPANDD  Z14, Z1, Z3
	VCMPPS  $1, Z20, Z3, K4      // |m| < tm
	VCMPPS  $4, Z16, Z3, K4, K4  // and m != 0
	VPANDD  Z14, Z5, Z6
	VCMPPS  $1, Z21, Z6, K5      // |v| < tv
	VCMPPS  $4, Z16, Z6, K5, K5  // and v != 0
	KORTESTW K4, K5
	JNZ     list512
	// gi = g*s
	VMOVUPS (SI)(AX*4), Z0
	VMULPS  Z13, Z0, Z0
	// m = flush(m + (gi-m)*c1)
	VSUBPS  Z1, Z0, Z2
	VMULPS  Z11, Z2, Z2
	VADDPS  Z2, Z1, Z1
	VPANDD  Z14, Z1, Z3
	VCMPPS  $1, Z15, Z3, K1      // |m| < 2⁻¹²⁶
	VMOVAPS Z16, K1, Z1          // zero those lanes
	// v = flush(v + (gi*gi-v)*c2)
	VMULPS  Z0, Z0, Z4
	VSUBPS  Z5, Z4, Z4
	VMULPS  Z12, Z4, Z4
	VADDPS  Z4, Z5, Z5
	VPANDD  Z14, Z5, Z6
	VCMPPS  $1, Z15, Z6, K1
	VMOVAPS Z16, K1, Z5
	// w -= a*m / (sqrt(v)*r + eps)
	VSQRTPS Z5, Z6
	VMULPS  Z9, Z6, Z6
	VADDPS  Z10, Z6, Z6
	VMULPS  Z8, Z1, Z7
	VDIVPS  Z6, Z7, Z7
	VMOVUPS (DI)(AX*4), Z0
	VSUBPS  Z7, Z0, Z0
	TESTL   DX, DX
	JZ      store512
	STMXCSR 4(SP)
	TESTL   $0x10, 4(SP)         // UE: something else underflowed
	JNZ     flagged512

store512:
	VMOVUPS Z1, (R8)(AX*4)
	VMOVUPS Z5, (R9)(AX*4)
	VMOVUPS Z0, (DI)(AX*4)

next512:
	ADDQ    $16, AX
	CMPQ    AX, CX
	JB      loop512
	MOVQ    $1, R13              // the loop is over: redo the list, return
	JMP     redo512

done512:
	LDMXCSR 0(SP)
	VZEROUPPER
	RET

flagged512:
	MOVL    R10, 4(SP)           // clear the flag
	LDMXCSR 4(SP)

list512:
	MOVQ    AX, 8(SP)(R11*8)     // list the vector for redoing
	INCQ    R11
	CMPQ    R11, $32
	JB      next512
	XORQ    R13, R13             // the list is full: redo it, go on

redo512:
	// The listed vectors one after the other: they are independent, so
	// the core overlaps one's long chain of conversions with the next's.
	TESTQ   R11, R11
	JZ      redone512
	MOVQ    AX, R12
	LDMXCSR 0(SP)                // the caller's mode: subnormals kept
	BCAST64(s+116(FP), Z17)
	BCAST64(c1+108(FP), Z18)
	BCAST64(c2+112(FP), Z19)
	BCAST64(r+100(FP), Z20)
	BCAST64(eps+104(FP), Z21)
	BCAST64(a+96(FP), Z22)
	MOVQ    $0x3810000000000000, AX // 2⁻¹²⁶ as a float64
	VPBROADCASTQ AX, Z23
	MOVQ    $0x7fffffffffffffff, AX // float64 |x| mask
	VPBROADCASTQ AX, Z24
	XORQ    BX, BX

redoloop512:
	MOVQ    8(SP)(BX*8), AX
	ADAM64(0)
	ADAM64(32)
	INCQ    BX
	CMPQ    BX, R11
	JB      redoloop512
	MOVQ    R12, AX
	XORQ    R11, R11
	MOVL    R10, 4(SP)           // flush to zero again, no flags
	LDMXCSR 4(SP)
	VBROADCASTSS tm+120(FP), Z20
	VBROADCASTSS tv+124(FP), Z21

redone512:
	TESTQ   R13, R13
	JNZ     done512
	JMP     next512

// func cpuIntel() bool
TEXT ·cpuIntel(SB), NOSPLIT, $0-1
	XORL AX, AX
	CPUID
	CMPL BX, $0x756e6547         // "Genu"
	JNE  notIntel
	CMPL DX, $0x49656e69         // "ineI"
	JNE  notIntel
	CMPL CX, $0x6c65746e         // "ntel"
	JNE  notIntel
	MOVB $1, ret+0(FP)
	RET

notIntel:
	MOVB $0, ret+0(FP)
	RET
