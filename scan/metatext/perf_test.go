package metatext

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// largeInputs are 1 MiB texts of the shapes most likely to expose
// super-linear behaviour.
func largeInputs() map[string]string {
	const size = 1 << 20
	rep := func(unit string) string { return strings.Repeat(unit, size/len(unit)+1) }
	var lvs strings.Builder
	for i := 0; lvs.Len() < size; i++ {
		fmt.Fprintf(&lvs, "lv%d {\nid = \"Vx8Lc2-tQ4n-Kp0R-w7Zs-Ey3M-j5Ud-Ha9bTo\"\nstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\nflags = []\n"+
			"segment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 1\ntype = \"striped\"\nstripe_count = 1\nstripes = [\n\"pv%d\", %d\n]\n}\n}\n", i, i%2, i)
	}
	var segs strings.Builder
	segs.WriteString("big { id = \"x\" status = [] segment_count = 0\n")
	for i := 0; segs.Len() < size; i++ {
		fmt.Fprintf(&segs, "s%d { start_extent = %d extent_count = 1 type = \"zero\" }\n", i, 40000-i)
	}
	segs.WriteString("}\n")
	var pvs strings.Builder
	for i := 0; pvs.Len() < size; i++ {
		fmt.Fprintf(&pvs, "pv%d { id = \"%032d\" status = [] pe_start = 0 pe_count = 1 }\n", i+2, i%1000)
	}
	return map[string]string{
		"many LVs":         vgText(lvs.String()),
		"many segments":    vgText(segs.String()),
		"many PVs":         strings.Replace(vgText(""), "physical_volumes {", "physical_volumes {\n"+pvs.String(), 1),
		"long string":      "a = \"" + rep("x\\\"") + "\"",
		"long bare word":   "a = " + rep("w"),
		"long array":       "a = [" + rep("1, ") + "]",
		"duplicate keys":   "s {" + rep("k = 1\n") + "}",
		"comments":         rep("# comment\n") + "a = 1",
		"octal numbers":    rep("a = 010\n"),
		"deep path keys":   rep(strings.Repeat("a/", MaxDepth-1) + "b = 1\n"),
		"many sections":    rep("s { }\n"),
		"error at the end": rep("a = 1 ") + "=",
		"one long line":    rep("k = [1 2] "),
	}
}

// TestLargeInputsFast guards against quadratic behaviour: each 1 MiB
// input must parse well within a generous budget (a few milliseconds to
// a few hundred when linear, even on a loaded machine).
func TestLargeInputsFast(t *testing.T) {
	budget := 10 * time.Second // linear parsing takes well under 1 s; a quadratic one takes minutes
	if testing.Short() {
		t.Skip("large inputs")
	}
	for name, text := range largeInputs() {
		start := time.Now()
		_, err := Parse([]byte(text))
		if d := time.Since(start); d > budget {
			t.Errorf("%s: %d bytes took %v (budget %v); err %v", name, len(text), d, budget, err)
		}
	}
}

func BenchmarkParseLarge(b *testing.B) {
	for name, text := range largeInputs() {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for i := 0; i < b.N; i++ {
				_, _ = Parse([]byte(text))
			}
		})
	}
}

func BenchmarkParseSpecExample(b *testing.B) {
	text := specExample(b)
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		if _, err := Parse(text); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAnomaliesBounded checks that messages stay small and few even when
// every item is odd and names are huge.
func TestAnomaliesBounded(t *testing.T) {
	long := strings.Repeat("n", 500<<10)
	text := long + " {\n" + strings.Repeat("k = 010\nk = x\n", 5000) + "}\n"
	doc, err := ParseTree([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Anomalies) != MaxAnomalies+1 || !strings.Contains(doc.Anomalies[MaxAnomalies].Msg, "more anomalies not listed") {
		t.Errorf("%d document anomalies, last %v", len(doc.Anomalies), doc.Anomalies[len(doc.Anomalies)-1])
	}
	vg, err := Build(doc)
	if vg == nil || err == nil {
		t.Fatalf("Build: %v, %v", vg, err)
	}
	total := 0
	for _, a := range vg.Anomalies {
		total += len(a)
	}
	if len(vg.Anomalies) > 2*MaxAnomalies+2 || total > 1<<20 {
		t.Errorf("%d anomalies, %d bytes", len(vg.Anomalies), total)
	}
	if len(err.Error()) > 4096 {
		t.Errorf("error message of %d bytes", len(err.Error()))
	}
}
