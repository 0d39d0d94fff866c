package journal

// For the tests of package journal_test (the Lua module in a full state).
var (
	StartRecorder = startRecorder
	WaitRows      = waitRows
)
