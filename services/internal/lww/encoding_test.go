package lww

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFactsAndCountersRoundTripAsArrays(t *testing.T) {
	set := Set{Seq: 7, Members: map[int64]Fact{
		1: {In: true, At: 1764124800123, Event: "0d5c1a7e-3f0b-4a8e-9c1d-2b3a4c5d6e7f"},
		2: {In: false, At: -5, Event: `odd "event" \ id ✓ ` + "\n"},
		3: {},
	}}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	want := `"1":[1,1764124800123,"0d5c1a7e-3f0b-4a8e-9c1d-2b3a4c5d6e7f"]`
	if !json.Valid(raw) || !strings.Contains(string(raw), want) {
		t.Fatalf("encoded %s, want it to contain %s", raw, want)
	}
	var back Set
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for id, f := range set.Members {
		if back.Members[id] != f {
			t.Fatalf("member %d: %+v, want %+v", id, back.Members[id], f)
		}
	}

	c := Counters{Entries: map[int64]Counter{5: {Value: 3, Seq: 17}, 6: {Value: -1, Seq: 0}}}
	raw, _ = json.Marshal(c)
	if string(raw) != `{"e":{"5":[3,17],"6":[-1,0]}}` {
		t.Fatalf("counters encoded as %s", raw)
	}
	var cback Counters
	if err := json.Unmarshal(raw, &cback); err != nil || cback.Entries[5] != c.Entries[5] || cback.Entries[6] != c.Entries[6] {
		t.Fatalf("counters decoded as %+v (%v)", cback, err)
	}
}

func TestValuesOfEarlierVersionsAreStillRead(t *testing.T) {
	var s Set
	if err := json.Unmarshal([]byte(`{"seq":2,"members":{"9":{"in":true,"at":42,"ev":"e1"}}}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.Members[9] != (Fact{In: true, At: 42, Event: "e1"}) {
		t.Fatalf("legacy fact read as %+v", s.Members[9])
	}
	var c Counters
	if err := json.Unmarshal([]byte(`{"e":{"4":{"v":8,"s":3}}}`), &c); err != nil || c.Entries[4] != (Counter{Value: 8, Seq: 3}) {
		t.Fatalf("legacy counter read as %+v (%v)", c.Entries[4], err)
	}
}

func TestMisshapenValuesAreErrors(t *testing.T) {
	for _, bad := range []string{`[1,2]`, `[1,"x","e"]`, `[1,2,3]`, `[1,2,"e",4]`, `"text"`} {
		var f Fact
		if err := json.Unmarshal([]byte(bad), &f); err == nil {
			t.Errorf("fact %s was accepted as %+v", bad, f)
		}
	}
	for _, bad := range []string{`[1]`, `[1,2,3]`, `["1",2]`, `true`} {
		var c Counter
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("counter %s was accepted as %+v", bad, c)
		}
	}
}

func TestCounterInFindsOneCounterWithoutDecodingTheBucket(t *testing.T) {
	bucket := Counters{Entries: map[int64]Counter{}}
	for id := int64(640); id < 704; id += 3 {
		bucket.Entries[id] = Counter{Value: id * 7, Seq: id + 1}
	}
	bucket.Entries[641] = Counter{Value: 0, Seq: -2}
	raw, err := json.Marshal(bucket)
	if err != nil {
		t.Fatal(err)
	}
	legacy := []byte(`{"e": {"64": {"v": 5, "s": 9}, "6": {"s": 2, "v": 1}}}`)
	for _, tc := range []struct {
		name   string
		bucket []byte
		id     int64
		want   Counter
	}{
		{"present", raw, 643, bucket.Entries[643]},
		{"first", raw, 640, bucket.Entries[640]},
		{"negative seq", raw, 641, bucket.Entries[641]},
		{"absent, its digits inside other ids", raw, 64, Counter{}},
		{"absent", raw, 642, Counter{}},
		{"empty bucket", nil, 1, Counter{}},
		{"earlier versions' objects", legacy, 6, Counter{Value: 1, Seq: 2}},
		{"earlier versions' objects, longer id", legacy, 64, Counter{Value: 5, Seq: 9}},
		{"a value embedding a bucket, the id inside a string before it",
			[]byte(`{"p":[{"id":7,"f":[1,5,"x\"7\":[9,9]"]}],"e":{"7":[3,4]}}`), 7, Counter{Value: 3, Seq: 4}},
	} {
		got, err := CounterIn(tc.bucket, tc.id)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	if _, err := CounterIn([]byte(`{"e":{"7":[1,`), 7); err == nil {
		t.Error("a truncated bucket decoded without an error")
	}
}
