//go:build !noemulator

package main

import (
	"context"
	"io"

	"mfaportal/dev"
)

// runDev is the portal on an emulated tenant (package dev).
func runDev(ctx context.Context, args []string, stdout io.Writer) error {
	return dev.Run(ctx, args, stdout)
}

// runEmulator is the emulated tenant alone (package dev).
func runEmulator(ctx context.Context, args []string, stdout io.Writer) error {
	return dev.Emulator(ctx, args, stdout)
}
