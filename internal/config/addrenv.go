package config

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// expandAddr expands $VAR and ${VAR} in an address even outside double
// quotes: HAProxy's address parser does so for every bind and server
// address, so "bind $ADDR:80" works unquoted.
func (c *ctx) expandAddr(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	lookup := c.l.opt.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		j, name := i+1, ""
		if s[j] == '{' {
			end := strings.IndexByte(s[j:], '}')
			if end < 0 {
				b.WriteByte(s[i])
				continue
			}
			name, j = s[j+1:j+end], j+end+1
		} else {
			k := j
			for k < len(s) && (s[k] == '_' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= 'a' && s[k] <= 'z' || k > j && s[k] >= '0' && s[k] <= '9') {
				k++
			}
			name, j = s[j:k], k
		}
		if name == "" {
			b.WriteByte(s[i])
			continue
		}
		v, _ := lookup(name)
		b.WriteString(v)
		i = j - 1
	}
	return b.String()
}

// capitalize gives an errno text the C library's capital letter.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// checkListeningFD verifies that an inherited descriptor is a socket, as
// HAProxy does when it reads "bind fd@N", so -c catches a missing
// systemd socket before a start would.
func checkListeningFD(fd int) error {
	if _, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		if err == unix.EBADF || err == unix.ENOTSOCK {
			return unix.ENOTSOCK
		}
		return err
	}
	return nil
}
