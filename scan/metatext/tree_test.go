package metatext

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// dump renders a tree compactly: sections as name{...}, keys as
// name=value, bare words as w"...".
func dump(n *Node) string {
	var b strings.Builder
	i := 0
	for c := range n.Children() {
		if i > 0 {
			b.WriteByte(' ')
		}
		i++
		b.WriteString(c.Name())
		if c.Section() {
			b.WriteString("{" + dump(c) + "}")
			continue
		}
		b.WriteString("=" + dumpValue(c.Value()))
	}
	return b.String()
}

func dumpValue(v Value) string {
	switch {
	case v.Kind == Array:
		parts := make([]string, v.Len())
		for i, it := range v.All() {
			parts[i] = dumpValue(it)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case v.Bare:
		return "w" + v.String()
	}
	return v.String()
}

func TestTreeQuirks(t *testing.T) {
	tests := []struct {
		name, in, want string
		anomaly        string // substring of an expected anomaly; "" = none
	}{
		{"simple", "a = 1\nb = \"x\"", `a=1 b="x"`, ""},
		{"no spaces", "a=1 s{b=2}c=[1,2]", `a=1 s{b=2} c=[1 2]`, ""},
		{"comment lines", "# top\na = 1 # after\n# between\nb = 2", `a=1 b=2`, ""},
		{"comment everywhere", "s # c1\n{ # c2\nk # c3\n= # c4\n[ # c5\n1 # c6\n, # c7\n2 # c8\n] # c9\n} # c10", `s{k=[1 2]}`, ""},
		{"hash in string", `a = "x#y" # z`, `a="x#y"`, ""},
		{"hash ends a name", "a#comment\n= 1", `a=1`, ""},
		{"all whitespace kinds", "a\t=\r\n1\v\fb\r=\r2", `a=1 b=2`, ""},
		{"commas optional", "a = [1 2 3]", `a=[1 2 3]`, ""},
		{"trailing comma", "a = [1, 2,]", `a=[1 2]`, ""},
		{"mixed commas", "a = [1, 2 3,4]", `a=[1 2 3 4]`, ""},
		{"empty array", "a = []\nb = [ ]", `a=[] b=[]`, ""},
		{"mixed types", `a = ["pv0", 0, "pv1", -3]`, `a=["pv0" 0 "pv1" -3]`, ""},
		{"escaped quote and backslash", `a = "q\"b\\c"`, `a="q\"b\\c"`, ""},
		{"other escapes kept", `a = "a\nb\tc\x"`, `a="a\\nb\\tc\\x"`, ""},
		{"backslash before final quote", `a = "x\\"`, `a="x\\"`, ""},
		{"single quotes no escapes", `a = 'it\"s' b = 'x#y'`, `a="it\\\"s" b="x#y"`, ""},
		{"newline in string", "a = \"x\ny\"\nb = 1", `a="x\ny" b=1`, ""},
		{"octal", "a = 010", `a=8`, "read as octal 8"},
		{"octal negative", "a = -017", `a=-15`, "leading zero"},
		{"double zero", "a = 00", `a=0`, "leading zero"},
		{"zero", "a = 0\nb = -0\nc = +5", `a=0 b=0 c=5`, ""},
		{"float", "a = 1.5", `a=1.5`, "float value"},
		{"float forms", "a = [.5, -2., +0.25]", `a=[0.5 -2 0.25]`, "float value"},
		{"float leading zero is not octal", "a = 010.5", `a=10.5`, "float value"},
		{"int64 max", "a = 9223372036854775807", `a=9223372036854775807`, ""},
		{"int64 min", "a = -9223372036854775808", `a=-9223372036854775808`, ""},
		{"overflow saturates", "a = 99999999999999999999", `a=9223372036854775807`, "does not fit"},
		{"bare word", "a = hello", `a=w"hello"`, "unquoted word"},
		{"bare words in array", "a = [x y\tz ]", `a=[w"x" w"y" w"z"]`, "unquoted word"},
		{"bare word swallows comma and bracket", "a = [x,y]\n]", `a=[w"x,y]"]`, "unquoted word"},
		{"bare word ends at brace", "s{a = b}", `s{a=w"b"}`, "unquoted word"},
		{"quoted key", `"my key" = 1 'other' = 2`, `my key=1 other=2`, ""},
		{"quoted section name", `"vg 1" { a = 1 }`, `vg 1{a=1}`, ""},
		{"path key", "a/b = 1", `a{b=1}`, "nested sections"},
		{"path key merges", "a { c = 2 }\na/b = 1", `a{c=2 b=1}`, "nested sections"},
		{"path key deep", "a/b/c = 1\na/b/d = 2", `a{b{c=1 d=2}}`, "nested sections"},
		{"path section", "a/b { c = 1 }", `a{b{c=1}}`, "nested sections"},
		{"path over a value", "a = 1\na/b = 2", `a=1 a{b=2}`, "duplicate section"},
		{"duplicate keys kept", "a = 1\na = 2", `a=1 a=2`, `duplicate key "a" in top level (first at line 1)`},
		{"duplicate sections kept", "s { a = 1 }\ns { a = 2 }", `s{a=1} s{a=2}`, `duplicate section "s"`},
		{"nul ends input", "a = 1\x00b = {{{", `a=1`, ""},
		{"nul inside string ends input", "a = 1\nb = \"x\x00\"", "", "-"},
		{"empty input", "", ``, ""},
		{"only comments", "# x\n# y", ``, ""},
		{"utf8 and high bytes in strings", "a = \"caf\xc3\xa9 \xff\"", "a=\"caf\u00e9 \\xff\"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := ParseTree([]byte(tc.in))
			if tc.anomaly == "-" { // expect a syntax error
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("want a *SyntaxError, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTree(%q): %v", tc.in, err)
			}
			if got := dump(doc.Root); got != tc.want {
				t.Errorf("ParseTree(%q)\n got %s\nwant %s", tc.in, got, tc.want)
			}
			var all []string
			for _, a := range doc.Anomalies {
				all = append(all, a.String())
			}
			joined := strings.Join(all, "\n")
			if tc.anomaly == "" && len(all) > 0 {
				t.Errorf("unexpected anomalies:\n%s", joined)
			}
			if tc.anomaly != "" && !strings.Contains(joined, tc.anomaly) {
				t.Errorf("no anomaly containing %q; got:\n%s", tc.anomaly, joined)
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	deep := strings.Repeat("a{", MaxDepth+1) + strings.Repeat("}", MaxDepth+1)
	deepPath := strings.Repeat("a/", MaxDepth) + "a = 1"
	tests := []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"leading zero with 8", "a = 08", 1, 5, "contains the digit 8"},
		{"leading zero with 9", "a = [1, 0779]", 1, 9, "contains the digit 9"},
		{"hex rejected", "a = 0x10", 1, 5, `malformed number "0x10"`},
		{"digits then letters", "a = 12abc", 1, 5, "malformed number"},
		{"two dots", "a = 1.2.3", 1, 5, `malformed number "1.2.3"`},
		{"lone sign", "a = -", 1, 5, "malformed number"},
		{"lone dot", "a = .", 1, 5, "malformed number"},
		{"unterminated string", "a = 1\nb = \"abc", 2, 5, "unterminated string"},
		{"unterminated single", "a = 'abc", 1, 5, "unterminated string"},
		{"escape at end", `a = "abc\`, 1, 5, "unterminated string"},
		{"missing value", "a = \n}", 2, 1, "expected a value, found '}'"},
		{"value at end", "a =", 1, 4, "expected a value, found end of input"},
		{"section as value", "a = { b = 1 }", 1, 5, "expected a value, found '{'"},
		{"no name", "= 1", 1, 1, "expected a name, found '='"},
		{"number as name", "[1] = 2", 1, 1, "expected a name"},
		{"missing equals", "a 1", 1, 3, `expected '=' or '{' after "a"`},
		{"name at end", "a", 1, 2, "found end of input"},
		{"empty quoted name", `"" = 1`, 1, 1, "empty name"},
		{"empty path part", "a//b = 1", 1, 1, "empty path component"},
		{"trailing slash", "a/ = 1", 1, 1, "empty path component"},
		{"unclosed section", "vg {\n a = 1\n", 3, 1, `section "vg" opened at line 1 is not closed`},
		{"stray close", "a = 1\n}", 2, 1, "unexpected '}'"},
		{"unclosed array", "a = [1, 2", 1, 10, "array opened at line 1 is not closed"},
		{"nested array", "a = [[1]]", 1, 6, "nested arrays"},
		{"leading comma", "a = [,1]", 1, 6, "unexpected ','"},
		{"double comma", "a = [1,,2]", 1, 8, "unexpected ','"},
		{"only comma", "a = [,]", 1, 6, "unexpected ','"},
		{"brace in array", "a = [1 {]", 1, 8, "expected a value, found '{'"},
		{"too deep", deep, 1, 2*MaxDepth + 1, "nested deeper than 64"},
		{"too deep path", deepPath, 1, 1, "nested deeper than 64"},
		{"error after long string", "a = \"x\ny\nz\"\nb = [", 4, 6, "not closed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := ParseTree([]byte(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseTree(%q) = %v, %v; want a *SyntaxError", tc.in, doc, err)
			}
			if doc != nil {
				t.Errorf("document returned with a syntax error")
			}
			if se.Line != tc.line || se.Col != tc.col || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("got line %d col %d %q; want line %d col %d containing %q", se.Line, se.Col, se.Msg, tc.line, tc.col, tc.msg)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("message %q does not say where", err)
			}
		})
	}
}

func TestDepthLimitAccepted(t *testing.T) {
	in := strings.Repeat("a{", MaxDepth) + strings.Repeat("}", MaxDepth)
	doc, err := ParseTree([]byte(in))
	if err != nil {
		t.Fatalf("depth %d rejected: %v", MaxDepth, err)
	}
	n := doc.Root
	for i := 0; i < MaxDepth; i++ {
		n = n.Get("a")
	}
	if n == nil || !n.Section() || n.NumChildren() != 0 {
		t.Errorf("innermost section wrong: %+v", n)
	}
	if got := n.Path(); got != strings.Repeat("a/", MaxDepth-1)+"a" {
		t.Errorf("Path() = %q", got)
	}
}

func TestLookupAndValues(t *testing.T) {
	doc, err := ParseTree([]byte(`vg { s { k = 1 k = 2 } s { k = 3 } }
c = "x" # trailing
d = 2
# Generated by something
e = [1, "two", 3.5]
big = -99999999999999999999`))
	if err != nil {
		t.Fatal(err)
	}
	if n := doc.Root.Lookup("vg/s/k"); n == nil || n.Value().Int != 1 || n.Line() != 1 {
		t.Errorf("vg/s/k = %+v, want the first k = 1", n)
	}
	if n := doc.Root.Lookup("vg/x/k"); n != nil {
		t.Errorf("lookup of a missing path returned %+v", n)
	}
	c := doc.Root.Get("c")
	if c.Comment() != "trailing" || c.Line() != 2 || c.Col() != 1 {
		t.Errorf("c: comment %q line %d col %d", c.Comment(), c.Line(), c.Col())
	}
	if d := doc.Root.Get("d"); d.Comment() != "" {
		t.Errorf("comment on the next line attached to d: %q", d.Comment())
	}
	e := doc.Root.Get("e").Value().Any()
	if got, ok := e.([]any); !ok || len(got) != 3 || got[0] != int64(1) || got[1] != "two" || got[2] != 3.5 {
		t.Errorf("e.Any() = %#v", e)
	}
	if big := doc.Root.Get("big").Value(); !big.Overflow || big.Int != math.MinInt64 {
		t.Errorf("big = %+v, want saturated MinInt64 with Overflow", big)
	}
	var texts []string
	for _, cm := range doc.Comments {
		texts = append(texts, cm.Text)
	}
	if strings.Join(texts, "|") != "trailing|Generated by something" || doc.Comments[1].Line != 4 || doc.Comments[1].Depth != 0 {
		t.Errorf("comments = %+v", doc.Comments)
	}
	var nilNode *Node
	if nilNode.Get("x") != nil {
		t.Error("Get on nil node")
	}
}
