package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Start starts the container.
func (c *Container) Start(ctx context.Context) error {
	_, err := c.engine.ContainerStart(ctx, c.ID, client.ContainerStartOptions{})
	return c.engine.ContainerErr(c.Subject(), err)
}

// Stop stops the container: SIGTERM, then SIGKILL after timeout (nil: the
// container's own stop timeout).
func (c *Container) Stop(ctx context.Context, timeout *time.Duration) error {
	_, err := c.engine.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: seconds(timeout)})
	return c.engine.ContainerErr(c.Subject(), err)
}

// Restart restarts the container (timeout as for Stop).
func (c *Container) Restart(ctx context.Context, timeout *time.Duration) error {
	_, err := c.engine.ContainerRestart(ctx, c.ID, client.ContainerRestartOptions{Timeout: seconds(timeout)})
	return c.engine.ContainerErr(c.Subject(), err)
}

func seconds(d *time.Duration) *int {
	if d == nil {
		return nil
	}
	s := int((*d + time.Second - 1) / time.Second)
	return &s
}

// Kill sends signal ("KILL", "SIGTERM", "9"; "" is SIGKILL) to the container.
func (c *Container) Kill(ctx context.Context, signal string) error {
	_, err := c.engine.ContainerKill(ctx, c.ID, client.ContainerKillOptions{Signal: signal})
	return c.engine.ContainerErr(c.Subject(), err)
}

// Pause freezes the container's processes.
func (c *Container) Pause(ctx context.Context) error {
	_, err := c.engine.ContainerPause(ctx, c.ID, client.ContainerPauseOptions{})
	return c.engine.ContainerErr(c.Subject(), err)
}

// Unpause thaws them.
func (c *Container) Unpause(ctx context.Context) error {
	_, err := c.engine.ContainerUnpause(ctx, c.ID, client.ContainerUnpauseOptions{})
	return c.engine.ContainerErr(c.Subject(), err)
}

// Wait waits until the container stops and returns its exit code.
func (c *Container) Wait(ctx context.Context) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := c.engine.ContainerWait(ctx, c.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-res.Result:
		if r.Error != nil && r.Error.Message != "" {
			return int(r.StatusCode), fmt.Errorf("%s: wait: %s", c.Subject(), r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-res.Error:
		return 0, c.engine.ContainerErr(c.Subject(), err)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
