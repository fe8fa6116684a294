package mpart

import (
	"syscall"
	"time"
	"unsafe"
)

func init() { threadCPUTime = linuxThreadCPUTime }

// linuxThreadCPUTime is clock_gettime(CLOCK_THREAD_CPUTIME_ID): the CPU
// time of the calling thread, which on this shared machine is a steadier
// measure than wall time.
func linuxThreadCPUTime() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
