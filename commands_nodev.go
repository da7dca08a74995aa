//go:build noemulator

package main

import (
	"context"
	"errors"
	"io"
)

// errNoEmulator is what "dev" and "emulator" say in a production build: the
// emulated tenant (a test double with demo passwords) is not linked in.
var errNoEmulator = errors.New("built without the emulated tenant (tag noemulator): use a development build for dev and emulator")

func runDev(context.Context, []string, io.Writer) error { return errNoEmulator }

func runEmulator(context.Context, []string, io.Writer) error { return errNoEmulator }
