// Package segtypes links in the export openers of every segment type
// beyond linear and striped. Programs that export LVs import it for its
// side effects:
//
//	import _ "github.com/lvminspect/lvminspect/export/segtypes"
package segtypes

// Each segment-type package registers its opener with volume.Register in
// its init function; list them here.
import (
	_ "github.com/lvminspect/lvminspect/export/cache"
	_ "github.com/lvminspect/lvminspect/export/cow"
	_ "github.com/lvminspect/lvminspect/export/integrity"
	_ "github.com/lvminspect/lvminspect/export/raid"
	_ "github.com/lvminspect/lvminspect/export/thin"
)
