package stacktest

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFreeAddr_IsAPortTheKernelHandsNoOneElse(t *testing.T) {
	// A test picks a port, frees it, and a process of its own binds it a moment later. Meanwhile any process of the
	// machine that listens on port 0 or connects out takes a port of the kernel's ephemeral range: a port picked
	// from that range can be gone by then (CI: "bind: address already in use" for a sandbox of the deploy test,
	// while cmd/... tests ran beside it). FreeAddr picks outside it.
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Skip("no ephemeral port range to read here")
	}
	bounds := strings.Fields(string(b))
	low, err := strconv.Atoi(bounds[0])
	require.NoError(t, err)
	high, err := strconv.Atoi(bounds[1])
	require.NoError(t, err)
	for range 50 {
		addr, err := FreeAddr()
		require.NoError(t, err)
		host, p, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1", host)
		port, err := strconv.Atoi(p)
		require.NoError(t, err)
		require.True(t, port < low || port > high, "port %d is in the kernel's ephemeral range %d-%d", port, low, high)
		ln, err := net.Listen("tcp", addr)
		require.NoError(t, err, "the port is free")
		ln.Close()
	}
}
