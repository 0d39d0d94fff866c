package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// engineCall runs an engine call about c (see Engine.call: limit bounds
// it, 0 leaves it to ctx). When the engine does not answer, the error is
// `engine not answering: container "web": pause: docker engine ...`: what
// needs the engine fails at once while it is known not to answer, also
// for a container read from disk.
func (c *Container) engineCall(ctx context.Context, what string, limit time.Duration, fn func(ctx context.Context) error) error {
	err := c.engine.call(ctx, limit, fn)
	if NotAnswering(err) {
		return fmt.Errorf("engine not answering: %s: %s: %w", c.Subject(), what, err)
	}
	return c.engine.ContainerErr(c.Subject(), err)
}

// NeedEngine returns the error of what needs the engine (what: "wait",
// "events") while the engine is known not to answer and a probe does not
// find it back; nil otherwise.
func (c *Container) NeedEngine(ctx context.Context, what string) error {
	if err := c.engine.Answering(ctx, ProbeGrace); err != nil {
		if NotAnswering(err) {
			return fmt.Errorf("engine not answering: %s: %s: %w", c.Subject(), what, err)
		}
		return err
	}
	return nil
}

// Start starts the container.
func (c *Container) Start(ctx context.Context) error {
	if c.ops != nil {
		return c.ops.Lifecycle(ctx, c, Action{Name: "start"})
	}
	return c.engineCall(ctx, "start", 0, func(ctx context.Context) error {
		_, err := c.engine.ContainerStart(ctx, c.ID, client.ContainerStartOptions{})
		return err
	})
}

// Stop stops the container: SIGTERM, then SIGKILL after timeout (nil: the
// container's own stop timeout).
func (c *Container) Stop(ctx context.Context, timeout *time.Duration) error {
	if c.ops != nil {
		return c.ops.Lifecycle(ctx, c, Action{Name: "stop", Timeout: timeout})
	}
	return c.engineCall(ctx, "stop", 0, func(ctx context.Context) error {
		_, err := c.engine.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: seconds(timeout)})
		return err
	})
}

// Restart restarts the container (timeout as for Stop).
func (c *Container) Restart(ctx context.Context, timeout *time.Duration) error {
	if c.ops != nil {
		return c.ops.Lifecycle(ctx, c, Action{Name: "restart", Timeout: timeout})
	}
	return c.engineCall(ctx, "restart", 0, func(ctx context.Context) error {
		_, err := c.engine.ContainerRestart(ctx, c.ID, client.ContainerRestartOptions{Timeout: seconds(timeout)})
		return err
	})
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
	if c.ops != nil {
		return c.ops.Lifecycle(ctx, c, Action{Name: "kill", Signal: signal})
	}
	return c.engineCall(ctx, "kill", CallTimeout, func(ctx context.Context) error {
		_, err := c.engine.ContainerKill(ctx, c.ID, client.ContainerKillOptions{Signal: signal})
		return err
	})
}

// Pause freezes the container's processes.
func (c *Container) Pause(ctx context.Context) error {
	if c.ops != nil {
		return c.ops.Lifecycle(ctx, c, Action{Name: "pause"})
	}
	return c.engineCall(ctx, "pause", CallTimeout, func(ctx context.Context) error {
		_, err := c.engine.ContainerPause(ctx, c.ID, client.ContainerPauseOptions{})
		return err
	})
}

// Unpause thaws them.
func (c *Container) Unpause(ctx context.Context) error {
	if c.ops != nil {
		return c.ops.Lifecycle(ctx, c, Action{Name: "unpause"})
	}
	return c.engineCall(ctx, "unpause", CallTimeout, func(ctx context.Context) error {
		_, err := c.engine.ContainerUnpause(ctx, c.ID, client.ContainerUnpauseOptions{})
		return err
	})
}

// Wait waits until the container stops and returns its exit code.
func (c *Container) Wait(ctx context.Context) (int, error) {
	if c.ops != nil {
		return c.ops.Wait(ctx, c)
	}
	if err := c.NeedEngine(ctx, "wait"); err != nil {
		return 0, err
	}
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
