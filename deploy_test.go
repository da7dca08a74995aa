package main

import (
	"os"
	"strings"
	"testing"
)

// The image CI builds with no registry (deploy/Containerfile.offline) must
// be the image users build (Dockerfile): the same instructions from USER on.
func TestOfflineContainerfileMatchesDockerfile(t *testing.T) {
	tail := func(path string) []string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		started := false
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "USER ") {
				started = true
			}
			if started && line != "" && !strings.HasPrefix(line, "#") {
				out = append(out, line)
			}
		}
		return out
	}
	users, offline := tail("Dockerfile"), tail("deploy/Containerfile.offline")
	if len(users) == 0 || strings.Join(users, "\n") != strings.Join(offline, "\n") {
		t.Errorf("the images differ from USER on:\nDockerfile:\n  %s\nContainerfile.offline:\n  %s",
			strings.Join(users, "\n  "), strings.Join(offline, "\n  "))
	}
}
