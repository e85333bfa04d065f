package kernel

import "syscall"

// osYield offers this thread's CPU to any other thread waiting for it.
// runtime.Gosched alone only switches goroutines: when the host takes one
// of two cores, a polling helper and the caller share the other, and a
// helper that kept its thread would take the caller's time on that core.
func osYield() {
	syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}
