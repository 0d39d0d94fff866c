//go:build !((386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64) && linux)

package trace

import (
	"context"
	"fmt"
	"runtime"
)

// Tracer is not available on this platform: ctrsh carries BPF objects for
// little-endian Linux only.
type Tracer struct{}

// Open says tracing is not available here.
func Open(o Options) (*Tracer, error) {
	return nil, &unavailableError{msg: fmt.Sprintf("tracing needs a kernel with BPF and BTF: no BPF programs for %s/%s", runtime.GOOS, runtime.GOARCH)}
}

func (t *Tracer) Run(ctx context.Context, fn func(Event) bool) error          { return nil }
func (t *Tracer) RunBatches(ctx context.Context, fn func([]Event) bool) error { return nil }
func (t *Tracer) Close() error                                                { return nil }
