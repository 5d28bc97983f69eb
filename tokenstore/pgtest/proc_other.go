//go:build !unix

package pgtest

import "syscall"

// sysProcAttr runs server processes as the current user: there is no root
// to step down from outside Unix.
func sysProcAttr(*owner) *syscall.SysProcAttr { return nil }
