//go:build !linux

package deploytest

import "syscall"

// childAttr: only Linux can make a part die with the test process.
func childAttr() *syscall.SysProcAttr { return nil }
