package top

import "time"

// Msg is something that happened: a key, a sample, a detail loaded, the
// terminal resized, the interval elapsed.
type Msg any

// Cmd is slow work the Program runs apart; its Msg comes back to Update.
type Cmd func() Msg

// The messages.
type (
	// KeyMsg is a key: a printable character, or "enter", "esc",
	// "backspace", "up", "down", "pgup", "pgdown", "home", "end", "ctrl+c".
	KeyMsg struct{ Key string }
	// SnapshotMsg is a refresh done.
	SnapshotMsg struct{ Snapshot Snapshot }
	// DetailMsg is a container's detail loaded.
	DetailMsg struct{ Detail *Detail }
	// ResizeMsg is the terminal's new size.
	ResizeMsg struct{ Width, Height int }
	// TickMsg says the interval has passed: time to refresh.
	TickMsg struct{}
)

// Deps are the Cmds' work: what a Model asks the Program to do.
type Deps struct {
	Collect func() Snapshot
	Detail  func(r Row) *Detail
	Wait    func(d time.Duration) // sleep until the next refresh (or the end)
}

// Model is everything the screen shows. It changes only in Update.
type Model struct {
	Width, Height int
	Interval      time.Duration
	Color         bool
	Snap          Snapshot
	Sort          SortKey
	Reverse       bool
	Filter        string
	Editing       bool   // typing the filter after "/"
	Selected      string // the id of the selected container
	Detail        *Detail
	DetailID      string // the container whose detail is open ("": the list)
	Quit          bool
	deps          Deps
}

// NewModel is a model of the list sorted by CPU, refreshed every interval.
func NewModel(deps Deps, interval time.Duration, width, height int, color bool) Model {
	return Model{Width: width, Height: height, Interval: interval, Color: color, deps: deps}
}

// Init is the first Cmd: a sample at once.
func (m Model) Init() []Cmd { return []Cmd{m.collect()} }

// Update applies msg and returns the Cmds it starts.
func (m Model) Update(msg Msg) (Model, []Cmd) {
	switch msg := msg.(type) {
	case KeyMsg:
		return m.key(msg.Key)
	case SnapshotMsg:
		m.Snap = msg.Snapshot
		m.keepSelection()
		cmds := []Cmd{m.tick()}
		if r, ok := m.detailRow(); ok {
			cmds = append(cmds, m.loadDetail(r))
		}
		return m, cmds
	case TickMsg:
		return m, []Cmd{m.collect()}
	case DetailMsg:
		if msg.Detail != nil && msg.Detail.ID == m.DetailID {
			m.Detail = msg.Detail
		}
	case ResizeMsg:
		m.Width, m.Height = msg.Width, msg.Height
	}
	return m, nil
}

func (m Model) collect() Cmd {
	collect := m.deps.Collect
	if collect == nil {
		return nil
	}
	return func() Msg { return SnapshotMsg{collect()} }
}

func (m Model) tick() Cmd {
	wait, d := m.deps.Wait, m.Interval
	if wait == nil {
		return nil
	}
	return func() Msg {
		wait(d)
		return TickMsg{}
	}
}

func (m Model) loadDetail(r Row) Cmd {
	load := m.deps.Detail
	if load == nil {
		return nil
	}
	return func() Msg { return DetailMsg{load(r)} }
}

// Visible is the rows the list shows: filtered, then sorted.
func (m Model) Visible() []Row {
	rows := make([]Row, 0, len(m.Snap.Rows))
	for _, r := range m.Snap.Rows {
		if Match(r, m.Filter) {
			rows = append(rows, r)
		}
	}
	Sort(rows, m.Sort, m.Reverse)
	return rows
}

// cursor is the index of the selected row among rows (0 when it is not
// there).
func (m Model) cursor(rows []Row) int {
	for i, r := range rows {
		if r.ID == m.Selected {
			return i
		}
	}
	return 0
}

// keepSelection selects the first row when the selected one is gone.
func (m *Model) keepSelection() {
	rows := m.Visible()
	if len(rows) == 0 {
		m.Selected = ""
		return
	}
	m.Selected = rows[m.cursor(rows)].ID
}

// detailRow is the row of the container whose detail is open.
func (m Model) detailRow() (Row, bool) {
	if m.DetailID == "" {
		return Row{}, false
	}
	for _, r := range m.Snap.Rows {
		if r.ID == m.DetailID {
			return r, true
		}
	}
	return Row{}, false
}
