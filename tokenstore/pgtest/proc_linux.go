package pgtest

import "syscall"

// sysProcAttr runs a server process as o (nil: as the current user). The
// kernel sends the server SIGINT (fast shutdown) when the test process dies,
// so a test binary killed by a timeout or a panic leaves no server behind.
// (The signal follows the thread that started the server; Go only ends
// threads a goroutine locked and did not unlock, which this package never
// does.)
func sysProcAttr(o *owner) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT}
	if o != nil {
		a.Credential = &syscall.Credential{Uid: o.uid, Gid: o.gid}
	}
	return a
}
