// Package buildinfo says which build of lvminspect is running, for the
// --version output, the JSON outputs and the provenance record of an
// export, the same in every front end.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// version is set by a release build:
//
//	go build -ldflags "-X github.com/lvminspect/lvminspect/internal/buildinfo.version=v1.2.3" ./cmd/lvminspect
var version = ""

// Version returns the program's version: the one a release build set;
// else the module version the Go toolchain recorded (a tagged version, or
// a pseudo-version made from the VCS revision and time, "+dirty" when the
// work tree had changes); else the VCS revision alone ("rev 0123456789ab",
// "+dirty"); and only when the binary carries none of these,
// "unknown (built without version information)". It is never "devel"
// when the build recorded a revision.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return unknown
	}
	return fromBuildInfo(bi)
}

const unknown = "unknown (built without version information)"

// fromBuildInfo is Version for a given build information.
func fromBuildInfo(bi *debug.BuildInfo) string {
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := bi.Main.Version
	if v != "" && v != "(devel)" {
		// A pseudo-version already names the revision.
		if rev != "" && !strings.Contains(v, rev) {
			v += " (rev " + rev + dirty + ")"
		}
		return v
	}
	if rev != "" {
		return "rev " + rev + dirty
	}
	return unknown
}
