//go:build !linux

package luax

// IsTerminal is false off Linux: ctrsh runs on Linux only.
func IsTerminal(v any) bool { return false }
