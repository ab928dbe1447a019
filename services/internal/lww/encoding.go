package lww

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Facts and counters are stored as JSON arrays, [in, at, "event"] and [value, seq], not as
// objects: sets and counters buckets are rewritten on every like, and the arrays make a set of
// 90 members a fifth smaller and a bucket of 64 counters a third smaller (less to encode, send,
// store and append to Redis's log). Objects written by earlier versions are still read; earlier
// versions cannot read the arrays.

// MarshalJSON writes f as [1|0, at, "event"].
func (f Fact) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24+len(f.Event))
	b = append(b, '[')
	if f.In {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, f.At, 10)
	b = append(b, ',')
	event, err := json.Marshal(f.Event)
	if err != nil {
		return nil, err
	}
	b = append(b, event...)
	return append(b, ']'), nil
}

// UnmarshalJSON reads [in, at, "event"], or the object {"in","at","ev"} of earlier versions.
func (f *Fact) UnmarshalJSON(data []byte) error {
	var legacy struct {
		In    bool   `json:"in"`
		At    int64  `json:"at"`
		Event string `json:"ev"`
	}
	wasObject, err := decodeArrayOr(data, &legacy, func(p *arrayParser) {
		in := p.int()
		p.comma()
		at := p.int()
		p.comma()
		*f = Fact{In: in != 0, At: at, Event: p.string()}
	})
	if wasObject {
		*f = Fact(legacy)
	}
	return err
}

// MarshalJSON writes c as [value, seq].
func (c Counter) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '[')
	b = strconv.AppendInt(b, c.Value, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, c.Seq, 10)
	return append(b, ']'), nil
}

// UnmarshalJSON reads [value, seq], or the object {"v","s"} of earlier versions.
func (c *Counter) UnmarshalJSON(data []byte) error {
	var legacy struct {
		Value int64 `json:"v"`
		Seq   int64 `json:"s"`
	}
	wasObject, err := decodeArrayOr(data, &legacy, func(p *arrayParser) {
		value := p.int()
		p.comma()
		*c = Counter{Value: value, Seq: p.int()}
	})
	if wasObject {
		*c = Counter(legacy)
	}
	return err
}

// CounterIn finds id's counter in the JSON of a Counters bucket, {"e":{"<id>":[value,seq],…}}
// (or of a value embedding one), without decoding the rest; an empty bucket or an absent id is
// the zero Counter. A quoted string followed by a colon is an object key, and the only keys made
// of digits are the entries' ids, so the quoted id followed by a colon is id's entry.
func CounterIn(bucket []byte, id int64) (Counter, error) {
	var buf [24]byte
	quoted := append(strconv.AppendInt(append(buf[:0], '"'), id, 10), '"')
	for rest := bucket; ; {
		at := bytes.Index(rest, quoted)
		if at < 0 {
			return Counter{}, nil
		}
		inString := at > 0 && rest[at-1] == '\\' // an escaped quote inside some string value
		rest = bytes.TrimLeft(rest[at+len(quoted):], " \t\r\n")
		if inString {
			continue
		}
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
		closing := byte(']')
		if len(rest) > 0 && rest[0] == '{' {
			closing = '}'
		}
		end := bytes.IndexByte(rest, closing)
		if end < 0 {
			return Counter{}, errShape
		}
		var c Counter
		err := c.UnmarshalJSON(rest[:end+1])
		return c, err
	}
}

// decodeArrayOr reads data with read when it is an array, or into legacy when it is an object
// (a value written by an earlier version), and reports which it was.
func decodeArrayOr(data []byte, legacy any, read func(*arrayParser)) (wasObject bool, err error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		return true, json.Unmarshal(data, legacy)
	}
	p := arrayParser{data: data}
	p.open()
	read(&p)
	p.close()
	if p.err != nil {
		return false, fmt.Errorf("%s: %w", data, p.err)
	}
	return false, nil
}

// arrayParser reads the small, flat arrays above without going through reflection. encoding/json
// has already checked that the input is valid JSON; the parser checks that it has the expected
// shape and keeps the first error.
type arrayParser struct {
	data []byte
	pos  int
	err  error
}

var errShape = errors.New("unexpected shape")

func (p *arrayParser) skipSpace() {
	for p.pos < len(p.data) && (p.data[p.pos] == ' ' || p.data[p.pos] == '\t' || p.data[p.pos] == '\n' || p.data[p.pos] == '\r') {
		p.pos++
	}
}

func (p *arrayParser) expect(c byte) {
	p.skipSpace()
	if p.err != nil || p.pos >= len(p.data) || p.data[p.pos] != c {
		p.fail()
		return
	}
	p.pos++
}

func (p *arrayParser) fail() {
	if p.err == nil {
		p.err = errShape
	}
}

func (p *arrayParser) open()  { p.expect('[') }
func (p *arrayParser) comma() { p.expect(',') }

func (p *arrayParser) close() {
	p.expect(']')
	p.skipSpace()
	if p.pos != len(p.data) {
		p.fail()
	}
}

func (p *arrayParser) int() int64 {
	p.skipSpace()
	if p.err != nil {
		return 0
	}
	start := p.pos
	for p.pos < len(p.data) && (p.data[p.pos] == '-' || (p.data[p.pos] >= '0' && p.data[p.pos] <= '9')) {
		p.pos++
	}
	n, err := strconv.ParseInt(string(p.data[start:p.pos]), 10, 64)
	if err != nil {
		p.fail()
	}
	return n
}

func (p *arrayParser) string() string {
	p.skipSpace()
	if p.err != nil || p.pos >= len(p.data) || p.data[p.pos] != '"' {
		p.fail()
		return ""
	}
	start := p.pos
	end := start + 1
	escaped := false
	for ; end < len(p.data); end++ {
		if p.data[end] == '\\' {
			escaped = true
			end++ // the escaped character cannot end the string
			continue
		}
		if p.data[end] == '"' {
			break
		}
	}
	if end >= len(p.data) {
		p.fail()
		return ""
	}
	p.pos = end + 1
	if !escaped {
		return string(p.data[start+1 : end])
	}
	var s string
	if err := json.Unmarshal(p.data[start:end+1], &s); err != nil {
		p.fail()
	}
	return s
}
