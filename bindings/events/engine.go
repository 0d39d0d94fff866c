package events

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// engineSource is the Docker Engine's event stream.
type engineSource struct {
	e *docker.Engine
	o Options
	// filters are sent to the engine (the Subscription applies o.Filters
	// to all events again).
	filters client.Filters
}

// EngineSource is e's event stream, asked for what o selects.
func EngineSource(e *docker.Engine, o Options) Source {
	src := &engineSource{e: e, o: o, filters: client.Filters{}}
	types := o.Filters["type"]
	reconcile := len(types) == 0 || contains(types, "container")
	for k, vs := range o.Filters {
		if k == "event" && reconcile {
			// Container state changes must be seen to be tracked; the
			// event filter is applied here instead.
			continue
		}
		if k == "pod" || k == "namespace" {
			continue // ctrsh's own, from the kubelet's labels: applied here
		}
		if k == "event" && e.Runtime() == "podman" {
			vs = podmanFilterActions(vs)
		}
		src.filters.Add(k, vs...)
	}
	return src
}

func (src *engineSource) Connect(ctx context.Context, since int64) (*Conn, error) {
	if since != 0 {
		// A reconnection: the engine may be on its way back up.
		if err := src.e.Ping(ctx); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	opts := client.EventsListOptions{Filters: src.filters}
	if since != 0 {
		opts.Since = docker.APITimestamp(since)
	}
	podman := src.e.Runtime() == "podman"
	if !src.o.Until.IsZero() && !podman {
		// (Podman answers a since+until window with nothing: see podman.go.)
		opts.Until = docker.APITimestamp(src.o.Until.UnixNano())
	}
	res := src.e.Events(ctx, opts)
	// Events returns once the engine answered (or failed): a failure is
	// already in Err.
	select {
	case err := <-res.Err:
		cancel()
		if err == nil {
			err = io.EOF
		}
		return nil, fmt.Errorf("docker events: %w", src.e.Err(err))
	default:
	}
	evs := make(chan Event)
	errs := make(chan error, 1)
	var end <-chan time.Time
	if podman {
		end = podmanUntil(src.o.Until)
	}
	go func() {
		for {
			select {
			case <-end:
				errs <- nil // the stream ends at until
				return
			case m := <-res.Messages:
				ev := fromMessage(m)
				if podman {
					fromPodman(&ev)
					if !src.o.Until.IsZero() && ev.TimeNano > src.o.Until.UnixNano() {
						continue
					}
				}
				select {
				case evs <- ev:
				case <-ctx.Done():
					return
				}
			case err := <-res.Err:
				errs <- src.e.Err(err) // names the engine (nil stays nil: the stream ended)
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return &Conn{Events: evs, Err: errs, Close: cancel}, nil
}

func (src *engineSource) List(ctx context.Context) (map[string]ContainerState, error) {
	res, err := src.e.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("docker events: listing containers: %w", src.e.Err(err))
	}
	out := make(map[string]ContainerState, len(res.Items))
	for _, c := range res.Items {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out[c.ID] = ContainerState{State: string(c.State), Name: name, Image: c.Image, Labels: c.Labels}
	}
	return out, nil
}

func fromMessage(m eventtypes.Message) Event {
	ev := Event{
		Type: string(m.Type), Action: string(m.Action), ID: m.Actor.ID,
		TimeNano: m.TimeNano, Attributes: m.Actor.Attributes,
	}
	if ev.TimeNano == 0 {
		ev.TimeNano = m.Time * 1e9
	}
	if ev.Attributes == nil {
		ev.Attributes = map[string]string{}
	}
	ev.Name = ev.Attributes["name"]
	ev.Image = ev.Attributes["image"]
	return ev
}
