package top

import "unicode/utf8"

// key applies a key.
func (m Model) key(k string) (Model, []Cmd) {
	switch {
	case k == "ctrl+c":
		m.Quit = true
	case m.Editing:
		m.editFilter(k)
	case m.DetailID != "":
		m.detailKey(k)
	default:
		return m.listKey(k)
	}
	return m, nil
}

// listKey is a key in the list: sort, filter, move, open, quit.
func (m Model) listKey(k string) (Model, []Cmd) {
	sorts := map[string]SortKey{"c": ByCPU, "m": ByMemory, "p": ByPids, "n": ByName}
	if s, ok := sorts[k]; ok {
		// The same key again turns the order round.
		m.Reverse = s == m.Sort && !m.Reverse
		m.Sort = s
		return m, nil
	}
	rows := m.Visible()
	switch k {
	case "q":
		m.Quit = true
	case "/":
		m.Editing = true
	case "esc":
		m.Filter = ""
	case "up", "k", "down", "j", "pgup", "pgdown", "home", "g", "end", "G":
		m.move(rows, k)
	case "enter":
		if len(rows) > 0 {
			r := rows[m.cursor(rows)]
			m.DetailID, m.Detail = r.ID, nil
			return m, []Cmd{m.loadDetail(r)}
		}
	}
	return m, nil
}

// move moves the selection.
func (m *Model) move(rows []Row, k string) {
	if len(rows) == 0 {
		return
	}
	i, page := m.cursor(rows), max(1, m.tableRows()-1)
	switch k {
	case "up", "k":
		i--
	case "down", "j":
		i++
	case "pgup":
		i -= page
	case "pgdown":
		i += page
	case "home", "g":
		i = 0
	case "end", "G":
		i = len(rows) - 1
	}
	i = min(max(i, 0), len(rows)-1)
	m.Selected = rows[i].ID
}

// editFilter is a key while the filter is typed: it applies as it is
// typed; Enter keeps it, Esc drops it.
func (m *Model) editFilter(k string) {
	switch k {
	case "enter":
		m.Editing = false
	case "esc":
		m.Editing, m.Filter = false, ""
	case "backspace":
		if _, n := utf8.DecodeLastRuneInString(m.Filter); n > 0 {
			m.Filter = m.Filter[:len(m.Filter)-n]
		}
	default:
		if utf8.RuneCountInString(k) == 1 && k >= " " {
			m.Filter += k
		}
	}
	m.keepSelection()
}

// detailKey is a key in a container's detail: back to the list, or quit.
func (m *Model) detailKey(k string) {
	switch k {
	case "q":
		m.Quit = true
	case "esc", "backspace", "enter", "left", "h":
		m.DetailID, m.Detail = "", nil
	}
}

// ParseKeys splits what the terminal sent into keys (several may come in
// one read); an unknown escape sequence is dropped.
func ParseKeys(b []byte) []string {
	var keys []string
	for len(b) > 0 {
		k, n := parseKey(b)
		if k != "" {
			keys = append(keys, k)
		}
		b = b[n:]
	}
	return keys
}

var escapes = map[string]string{
	"\x1b[A": "up", "\x1b[B": "down", "\x1b[C": "right", "\x1b[D": "left",
	"\x1bOA": "up", "\x1bOB": "down", "\x1bOC": "right", "\x1bOD": "left",
	"\x1b[5~": "pgup", "\x1b[6~": "pgdown", "\x1b[H": "home", "\x1b[F": "end",
	"\x1b[1~": "home", "\x1b[4~": "end", "\x1bOH": "home", "\x1bOF": "end",
}

func parseKey(b []byte) (string, int) {
	switch c := b[0]; {
	case c == 0x1b:
		return parseEscape(b)
	case c == '\r' || c == '\n':
		return "enter", 1
	case c == 0x7f || c == 0x08:
		return "backspace", 1
	case c == 0x03:
		return "ctrl+c", 1
	case c < 0x20:
		return "", 1
	}
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError {
		return "", n
	}
	return string(r), n
}

// parseEscape reads an escape sequence: a known key, Esc alone, or an
// unknown CSI/SS3 sequence skipped whole.
func parseEscape(b []byte) (string, int) {
	for seq, k := range escapes {
		if len(b) >= len(seq) && string(b[:len(seq)]) == seq {
			return k, len(seq)
		}
	}
	if len(b) == 1 || (b[1] != '[' && b[1] != 'O') {
		return "esc", 1
	}
	i := 2
	for i < len(b) && (b[i] < 0x40 || b[i] > 0x7e) {
		i++
	}
	return "", min(i+1, len(b))
}
