package logs

import (
	"bytes"
	"encoding/binary"
	"time"
	"unicode/utf8"
)

// A json-file log line as the engine writes it:
//
//	{"log":"MESSAGE","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}
//
// Most lines' messages need no unescaping but the final \n: their bytes in
// the file are the message itself. splitJSONLine reads such a line without
// decoding it; any other line (escapes, attrs, another field order) is left
// to encoding/json (jsonFormat.parse), so the result never differs.

const (
	jsonHead   = `{"log":"`
	tailStdout = `","stream":"stdout","time":"`
	tailStderr = `","stream":"stderr","time":"`
)

const (
	streamStdout = 1
	streamStderr = 2
)

// plainLine is a line split by splitJSONLine: msg is the message (a view
// into the line), ts the raw time.
type plainLine struct {
	msg    []byte
	ts     []byte
	stream uint8
	full   bool
}

// jsonTail reads the end of a line as the engine writes it: the stream,
// the raw time and where the message's closing quote is.
func jsonTail(line []byte) (stream uint8, ts []byte, end int, ok bool) {
	n := len(line)
	if n < len(jsonHead)+len(tailStdout)+2 || line[n-1] != '}' || line[n-2] != '"' || string(line[:len(jsonHead)]) != jsonHead {
		return 0, nil, 0, false
	}
	// The time's opening quote: most times have 9 fraction digits.
	q := n - 2 - len("2006-01-02T15:04:05.999999999Z") - 1
	if q < 1 || line[q] != '"' || line[q-1] != ':' {
		q = bytes.LastIndexByte(line[:n-2], '"')
	}
	end = q + 1 - len(tailStdout)
	if end < len(jsonHead) {
		return 0, nil, 0, false
	}
	switch string(line[end : q+1]) {
	case tailStdout:
		stream = streamStdout
	case tailStderr:
		stream = streamStderr
	default:
		return 0, nil, 0, false
	}
	return stream, line[q+1 : n-2], end, true
}

// splitJSONLine splits a line whose message has no escapes but its final
// \n (and \r before it, with trimCR). ok is false for any other line.
func splitJSONLine(line []byte, trimCR bool) (p plainLine, ok bool) {
	var end int
	if p.stream, p.ts, end, ok = jsonTail(line); !ok {
		return p, false
	}
	msg := line[len(jsonHead):end]
	if k := len(msg); k >= 2 && msg[k-2] == '\\' && msg[k-1] == 'n' {
		msg, p.full = msg[:k-2], true
		if k := len(msg); trimCR && k >= 2 && msg[k-2] == '\\' && msg[k-1] == 'r' {
			msg = msg[:k-2]
		}
	}
	// Any other backslash is an escape (or makes the \n above a "\\"
	// followed by n), and a quote would end the string before the tail
	// (another field follows): both are for encoding/json.
	if bytes.IndexByte(msg, '\\') >= 0 || bytes.IndexByte(msg, '"') >= 0 {
		return p, false
	}
	p.msg = msg
	return p, true
}

// lineTime is the time of a line of the log.
func lineTime(line []byte) (time.Time, bool) {
	if _, ts, _, ok := jsonTail(line); ok {
		if t, ok := parseTime(ts); ok {
			return t, true
		}
	}
	_, t, _, _, ok := jsonFormat{}.parse(line)
	return t, ok
}

// plainText reports whether a message split by splitJSONLine is what
// encoding/json decodes: valid UTF-8 (it replaces invalid bytes) and no
// control characters (they make the line invalid JSON). The engine writes
// nothing else; a file written by another program may differ.
func plainText(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// Set where a byte may be below 0x20 or at or above 0x80.
		if ((x-0x2020202020202020)|x)&0x8080808080808080 != 0 {
			break
		}
	}
	for _, c := range b[i:] {
		if c < 0x20 {
			return false
		}
	}
	return utf8.Valid(b[i:])
}

// parseTime reads an RFC 3339 time as the engine writes it (UTC, "Z", 0 to
// 9 fraction digits) without time.Parse, which any other form goes to.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) < 20 || len(b) > 30 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return parseTimeSlow(b)
	}
	var f [6]int
	for i, at := range [6]int{0, 5, 8, 11, 14, 17} {
		w := 2
		if i == 0 {
			w = 4
		}
		v, ok := digits(b[at : at+w])
		if !ok {
			return parseTimeSlow(b)
		}
		f[i] = v
	}
	ns := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 {
			return parseTimeSlow(b)
		}
		v, ok := digits(frac[1:])
		if !ok {
			return parseTimeSlow(b)
		}
		ns = v * pow10[9-(len(frac)-1)]
	}
	if f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return parseTimeSlow(b)
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], ns, time.UTC)
	if t.Day() != f[2] {
		return parseTimeSlow(b) // February 30th: time.Parse says why not
	}
	return t, true
}

var pow10 = [10]int{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func parseTimeSlow(b []byte) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, string(b))
	return t, err == nil
}
