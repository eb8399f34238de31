package main

import (
	"fmt"
	"os"
	"strings"
)

// The README's table sits between these markers; -readme replaces what is between them.
const (
	readmeStart = "<!-- bench:table -->"
	readmeEnd   = "<!-- /bench:table -->"
)

// fillReadme puts md between the markers of the file at path.
func fillReadme(path, md string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, readmeStart), strings.Index(s, readmeEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %s … %s to fill", path, readmeStart, readmeEnd)
	}
	s = s[:i+len(readmeStart)] + "\n" + strings.TrimSpace(md) + "\n" + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}
