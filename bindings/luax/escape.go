package luax

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// Escape returns s with everything a terminal could act on written visibly,
// as Go quotes strings: C0 controls but newline and tab (\x1b, \a, \r, ...),
// DEL (\x7f), the C1 controls U+0080–U+009F (\u009b) and bytes that are not
// UTF-8 (\x9b). Text from containers and the kernel — process names,
// command lines, log lines, labels, environment values — passes through it
// before it reaches a terminal: otherwise a process named "\x1b]0;x\a"
// would set the terminal's title, and "\x1b[2J" clear its screen.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	return string(appendEscaped(nil, s, false))
}

// EscapeLine is Escape that also escapes newline and tab, for text that
// must stay on one line (a cell of a table).
func EscapeLine(s string) string {
	return string(appendEscaped(nil, s, true))
}

// clean reports whether s needs no escaping.
func clean[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c >= 0x80 {
			return false
		}
	}
	return true
}

func appendEscaped[T string | []byte](dst []byte, s T, line bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			switch {
			case r == utf8.RuneError && n == 1:
				dst = fmt.Appendf(dst, `\x%02x`, c)
			case r >= 0x80 && r <= 0x9f:
				dst = fmt.Appendf(dst, `\u%04x`, r)
			default:
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
		switch {
		case c == '\n' && !line, c == '\t' && !line:
			dst = append(dst, c)
		case c == '\a':
			dst = append(dst, `\a`...)
		case c == '\b':
			dst = append(dst, `\b`...)
		case c == '\f':
			dst = append(dst, `\f`...)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		case c == '\v':
			dst = append(dst, `\v`...)
		case c < 0x20 || c == 0x7f:
			dst = fmt.Appendf(dst, `\x%02x`, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// TermWriter is a writer to a terminal that escapes what it is given (see
// Escape). ctrsh wraps its standard output and error in one when they are
// terminals, so everything Lua code and ctrsh print there — print, emit's
// tables, pp, io.write, error messages — is escaped in one place. Each
// Write is escaped as a whole: a UTF-8 sequence split between two writes
// shows as bytes, not as the character.
type TermWriter struct {
	w io.Writer
}

// NewTermWriter returns a TermWriter writing to w, a terminal.
func NewTermWriter(w io.Writer) *TermWriter { return &TermWriter{w: w} }

// Write escapes p and writes it; it reports len(p) written on success.
func (t *TermWriter) Write(p []byte) (int, error) {
	if clean(p) {
		return t.w.Write(p)
	}
	if _, err := t.w.Write(appendEscaped(nil, p, false)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Raw returns the writer under a TermWriter (and under a Progress guard:
// the terminal itself) — for what must reach the terminal as it is: the
// shell's prompt and colours, and the terminal handed to a command entered
// interactively (as docker exec -it hands it). Any other writer is
// returned as it is. What writes there while a progress line may be shown
// wraps it in Progress.Guard again.
func Raw(w io.Writer) io.Writer {
	if t, ok := w.(*TermWriter); ok {
		w = t.w
	}
	if g, ok := w.(*progressGuard); ok {
		return g.w
	}
	return w
}

// File is the file under w (a TermWriter, a progress Guard), if any: the
// terminal a full-screen view takes over.
func File(w io.Writer) (*os.File, bool) {
	for i := 0; i < 4; i++ {
		switch v := w.(type) {
		case *os.File:
			return v, true
		case *TermWriter:
			w = v.w
		case interface{ Underlying() io.Writer }:
			w = v.Underlying()
		default:
			return nil, false
		}
	}
	return nil, false
}

// MarshalJSON is json.Marshal (json.MarshalIndent with indent) whose output
// escapes every control character: encoding/json escapes C0 and leaves
// DEL and the C1 controls U+0080–U+009F as they are, which a terminal
// showing the JSON may act on. JSON allows any character as \uXXXX, so the
// result decodes to the same value.
func MarshalJSON(v any, indent bool) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if indent {
		b, err = json.MarshalIndent(v, "", "  ")
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return nil, err
	}
	// Outside strings JSON is plain ASCII, so these bytes are in strings.
	if !bytes.ContainsFunc(b, func(r rune) bool { return r == 0x7f || r >= 0x80 && r <= 0x9f }) {
		return b, nil
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == 0x7f || r >= 0x80 && r <= 0x9f {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out, nil
}
