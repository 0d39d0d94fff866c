package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/containers"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

// containerPID turns a container name or id given to nsenter's -t into the
// PID of its init, pinned by the pidfd it returns once checked to be the
// container's process on this host. The container may be any runtime's
// (Docker, Podman, containerd, CRI-O): found as containers.get finds it,
// through DOCKER_HOST and CONTAINER_RUNTIME_ENDPOINT or the usual sockets.
func containerPID(ctx context.Context, ref string) (int, *os.File, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	L.SetContext(ctx)
	luax.SetEnv(L, &luax.Env{Stdout: io.Discard, Stderr: io.Discard, Stdin: strings.NewReader("")})
	c, err := containers.Get(ctx, containers.Runtimes(L), ref)
	if err != nil {
		return 0, nil, err
	}
	if c.PID <= 0 {
		return 0, nil, fmt.Errorf("%s: not running (%s)", c.Subject(), c.State)
	}
	p, err := c.Pin("/", c.PID)
	if err != nil {
		return 0, nil, err
	}
	return p.PID, p.File(), nil
}
