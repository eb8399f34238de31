package deploytest

import "syscall"

// childAttr makes a part die with the test process, should the test be killed (go test -timeout) before it can
// stop the parts.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
