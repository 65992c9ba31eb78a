package raid

import (
	"fmt"

	"github.com/lvminspect/lvminspect/model"
)

// SegmentError says that the metadata of a mirror or raid segment cannot
// be mapped: a count, size or reference is inconsistent. It wraps
// model.ErrMapping.
type SegmentError struct {
	LV      string
	Segment int    // index into LV.Segments
	Type    string // segment type
	Field   string // the metadata key or structure at fault
	Reason  string
}

func (e *SegmentError) Error() string {
	return fmt.Sprintf("lv %s: %s (%s): %s: %s", e.LV, model.SegmentName(e.Segment), e.Type, e.Field, e.Reason)
}

// Unwrap returns model.ErrMapping.
func (e *SegmentError) Unwrap() error { return model.ErrMapping }
