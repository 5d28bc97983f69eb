//go:build unix && !linux

package pgtest

import "syscall"

// sysProcAttr runs a server process as o (nil: as the current user). Outside
// Linux there is no parent-death signal: a test process that dies without
// running Main's cleanup leaves its private server running.
func sysProcAttr(o *owner) *syscall.SysProcAttr {
	if o == nil {
		return nil
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: o.uid, Gid: o.gid}}
}
