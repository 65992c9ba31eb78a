package main

import "github.com/lvminspect/lvminspect/internal/buildinfo"

// Version returns the program's version (see buildinfo.Version; a release
// build sets it with -ldflags "-X
// github.com/lvminspect/lvminspect/internal/buildinfo.version=...").
func Version() string { return buildinfo.Version() }
