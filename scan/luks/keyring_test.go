package luks

import (
	"fmt"
	"testing"
)

func TestKeyring(t *testing.T) {
	k := NewKeyring()
	k.AddSecret("", []byte("all"), "a")
	k.AddSecret("in1.p2", []byte("own"), "typed")
	k.AddVolumeKey("", []byte("vk"), "v")
	got := func(id string) string {
		var s []string
		for _, c := range k.For(id) {
			s = append(s, fmt.Sprintf("%s:%v", c.Bytes, c.VolumeKey))
		}
		return fmt.Sprint(s)
	}
	if g := got("in1.p2"); g != "[own:false vk:true all:false]" {
		t.Errorf("For(in1.p2) = %s", g)
	}
	if g := got("in2"); g != "[vk:true all:false]" {
		t.Errorf("For(in2) = %s", g)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", k, k, k, k); s != "[redacted] [redacted] [redacted] [redacted]" {
		t.Errorf("printed: %s", s)
	}
	k.Forget("in1.p2", "typed")
	if g := got("in1.p2"); g != "[vk:true all:false]" {
		t.Errorf("after Forget: %s", g)
	}
	k.Wipe()
	if !k.Empty() {
		t.Error("not empty after Wipe")
	}
}
