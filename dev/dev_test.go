package dev

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestHelpListsTheFlags(t *testing.T) {
	for name, run := range map[string]func(context.Context, []string, *strings.Builder) error{
		"dev":      func(ctx context.Context, a []string, w *strings.Builder) error { return Run(ctx, a, w) },
		"emulator": func(ctx context.Context, a []string, w *strings.Builder) error { return Emulator(ctx, a, w) },
	} {
		var out strings.Builder
		if err := run(context.Background(), []string{"-h"}, &out); err != nil {
			t.Errorf("%s -h: %v", name, err)
		}
		for _, want := range []string{"usage: mfaportal " + name, "-addr", "-users"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s -h lacks %q:\n%s", name, want, out.String())
			}
		}
	}
}

func TestRefusalsNameTheFlagAndTheWayOut(t *testing.T) {
	var out strings.Builder
	err := Run(context.Background(), []string{"-addr", "0.0.0.0:8080"}, &out)
	if err == nil || !strings.Contains(err.Error(), "-addr 0.0.0.0:8080: the portal") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("-addr 0.0.0.0: %v", err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	err = Run(context.Background(), []string{"-addr", busy.Addr().String(), "-tenant-addr", "127.0.0.1:0", "-account-addr", "localhost:0"}, &out)
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "choose another with -addr") {
		t.Errorf("a busy port: %v", err)
	}
	if err := Run(context.Background(), []string{"-nope"}, &out); err == nil || !strings.Contains(err.Error(), "mfaportal dev -h") {
		t.Errorf("an unknown flag: %v", err)
	}
}
