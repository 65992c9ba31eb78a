package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}
	for _, c := range []struct {
		main string
		set  []debug.BuildSetting
		want string
	}{
		{"v1.2.3", nil, "v1.2.3"},
		{"v0.0.0-20250101120000-0123456789ab+dirty", rev, "v0.0.0-20250101120000-0123456789ab+dirty"},
		{"(devel)", rev, "rev 0123456789ab+dirty"},
		{"", rev[:1], "rev 0123456789ab"},
		{"v1.2.3", rev[:1], "v1.2.3 (rev 0123456789ab)"},
		{"(devel)", nil, unknown},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Version: c.main}, Settings: c.set}
		if got := fromBuildInfo(bi); got != c.want {
			t.Errorf("%q %v: %q, want %q", c.main, c.set, got, c.want)
		}
		if strings.Contains(fromBuildInfo(bi), "devel") {
			t.Errorf("%q: devel", c.main)
		}
	}
	version = "v9"
	defer func() { version = "" }()
	if Version() != "v9" {
		t.Error("the release build's version is not used")
	}
}
