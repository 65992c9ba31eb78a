//go:build !unix

package main

// noCoreDumps: no core dumps to stop on this system.
func noCoreDumps() {}
