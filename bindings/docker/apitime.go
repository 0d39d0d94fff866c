package docker

import "fmt"

// APITimestamp formats Unix nanoseconds as the Engine API takes the since
// and until of events and logs: "seconds.nanoseconds".
func APITimestamp(ns int64) string {
	return fmt.Sprintf("%d.%09d", ns/1e9, ns%1e9)
}
