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
	MOVQ AX, X14
	VPBROADCASTD X14, Y14
	MOVL $0x00800000, AX         // 2⁻¹²⁶, the smallest normal float32
	MOVQ AX, X15
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

// func adamStepAVX512(w, g, m, v []float32, a, r, eps, c1, c2, s float32)
// adamStepAVX2 on 16 lanes: the same operations in the same order, so
// the same bits; a flushed lane is set to +0 by a masked move, as the
// AND-NOT sets it.
TEXT ·adamStepAVX512(SB), NOSPLIT, $0-120
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
	MOVQ AX, X14
	VPBROADCASTD X14, Z14
	MOVL $0x00800000, AX         // 2⁻¹²⁶, the smallest normal float32
	MOVQ AX, X15
	VPBROADCASTD X15, Z15
	VPXORD Z16, Z16, Z16         // zeros
	XORQ AX, AX
	TESTQ CX, CX
	JZ   done512

loop512:
	// gi = g*s
	VMOVUPS (SI)(AX*4), Z0
	VMULPS  Z13, Z0, Z0
	// m = flush(m + (gi-m)*c1)
	VMOVUPS (R8)(AX*4), Z1
	VSUBPS  Z1, Z0, Z2
	VMULPS  Z11, Z2, Z2
	VADDPS  Z2, Z1, Z1
	VPANDD  Z14, Z1, Z3
	VCMPPS  $1, Z15, Z3, K1      // |m| < 2⁻¹²⁶
	VMOVAPS Z16, K1, Z1          // zero those lanes
	VMOVUPS Z1, (R8)(AX*4)
	// v = flush(v + (gi*gi-v)*c2)
	VMULPS  Z0, Z0, Z4
	VMOVUPS (R9)(AX*4), Z5
	VSUBPS  Z5, Z4, Z4
	VMULPS  Z12, Z4, Z4
	VADDPS  Z4, Z5, Z5
	VPANDD  Z14, Z5, Z6
	VCMPPS  $1, Z15, Z6, K1
	VMOVAPS Z16, K1, Z5
	VMOVUPS Z5, (R9)(AX*4)
	// w -= a*m / (sqrt(v)*r + eps)
	VSQRTPS Z5, Z6
	VMULPS  Z9, Z6, Z6
	VADDPS  Z10, Z6, Z6
	VMULPS  Z8, Z1, Z7
	VDIVPS  Z6, Z7, Z7
	VMOVUPS (DI)(AX*4), Z0
	VSUBPS  Z7, Z0, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ    $16, AX
	CMPQ    AX, CX
	JB      loop512

done512:
	VZEROUPPER
	RET
