package session

import (
	"testing"
	"time"
)

func TestOpenedCacheIsBoundedAndLapses(t *testing.T) {
	var c openedCache
	now := time.Unix(1_800_000_000, 0)
	for i := range openedMax + 50 {
		c.put(openedKey("c", string(rune('a'+i%26))+string(rune(i))), payload{Sub: "u"}, now)
	}
	if n := len(c.entries); n != openedMax {
		t.Errorf("%d entries, want at most %d", n, openedMax)
	}
	k := openedKey("c", "value")
	c.put(k, payload{Sub: "alice"}, now)
	if v, ok := c.get(k, now.Add(openedFor-time.Second)); !ok || v.Sub != "alice" {
		t.Errorf("a fresh entry: %v %v", v, ok)
	}
	if _, ok := c.get(k, now.Add(openedFor)); ok {
		t.Error("an entry is used past openedFor")
	}
	if _, ok := c.get(openedKey("c", "valuf"), now); ok {
		t.Error("another value finds the entry")
	}
	if _, ok := c.get(openedKey("d", "value"), now); ok {
		t.Error("another cookie name finds the entry")
	}
}
