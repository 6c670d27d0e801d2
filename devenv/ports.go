package devenv

import (
	"fmt"
	"net"
)

// CheckPortFree reports a taken port by the name of what wanted it and the flag that moves it.
func CheckPortFree(name, addr, flag string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s port %s is in use (change it with %s): %w", name, addr, flag, err)
	}
	return l.Close()
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
