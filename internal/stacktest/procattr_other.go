//go:build !linux

package stacktest

import "syscall"

// ChildAttr is nil: only Linux stops a child with its parent.
func ChildAttr() *syscall.SysProcAttr { return nil }
