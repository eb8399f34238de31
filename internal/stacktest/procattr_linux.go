package stacktest

import "syscall"

// ChildAttr makes a process die with the test process, should the test be killed (go test -timeout) before it can
// stop it.
func ChildAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
