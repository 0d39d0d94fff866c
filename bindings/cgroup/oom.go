//go:build linux

package cgroup

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// OOMEvent is one OOM kill (or more, counted together) seen by WatchOOM.
type OOMEvent struct {
	Time     time.Time
	OOMKills *uint64 // the count after the kill; nil on kernels that do not count
	New      uint64  // kills since the previous event (0 when not counted)
}

// notice is what the reading goroutine hands the watching one.
type notice struct {
	gone bool // the cgroup was removed
	err  error
}

// notifier is a kernel source of OOM notifications for one cgroup.
type notifier struct {
	C     chan notice
	close func()
}

// v1Settle bounds how long a v1 watch re-reads oom_kill after the eventfd
// fired: the kernel signals when the OOM starts and counts the kill a
// moment later.
var v1Settle = 2 * time.Second

// WatchOOM calls fn on the calling goroutine for each OOM kill in the
// cgroup until fn returns false (nil error) or ctx ends (ctx's error). On
// v1 it registers an eventfd for memory.oom_control in cgroup.event_control;
// on v2 it watches memory.events with inotify. Kernel reads happen in a
// goroutine of their own, which hands notifications over a channel; fn is
// never called from it. The error wraps ErrNoCgroup when the cgroup is
// removed during the watch.
func (c *Cgroup) WatchOOM(ctx context.Context, fn func(OOMEvent) bool) error {
	last, err := c.OOMKills()
	if err != nil {
		return err
	}
	var n *notifier
	if c.Version == 2 {
		n, err = c.inotifyEvents()
	} else {
		n, err = c.eventfdOOM()
	}
	if err != nil {
		return err
	}
	defer n.close()
	for {
		var nt notice
		select {
		case <-ctx.Done():
			return ctx.Err()
		case nt = <-n.C:
		}
		if nt.err != nil {
			return nt.err
		}
		if nt.gone || !c.exists() {
			return fmt.Errorf("cgroup %s: removed during the watch: %w", c.Path, ErrNoCgroup)
		}
		count, err := c.OOMKills()
		if c.Version == 1 && count != nil && last != nil && *count <= *last {
			count, err = c.settle(ctx, *last)
		}
		if err != nil {
			return err
		}
		ev := OOMEvent{Time: time.Now(), OOMKills: count}
		switch {
		case count == nil && last != nil:
			continue // the counter could not be read this time
		case count == nil:
			// This kernel does not count kills: every notification is reported.
		case last == nil || *count > *last:
			if last != nil {
				ev.New = *count - *last
			} else {
				ev.New = *count
			}
			last = count
		default:
			continue // memory.events changed for another reason (max, high)
		}
		if !fn(ev) {
			return nil
		}
	}
}

// settle re-reads oom_kill until it rises above last or v1Settle passes.
func (c *Cgroup) settle(ctx context.Context, last uint64) (*uint64, error) {
	deadline := time.Now().Add(v1Settle)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		count, err := c.OOMKills()
		if err != nil || count == nil || *count > last || time.Now().After(deadline) {
			return count, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// reader starts the goroutine that reads f and turns each read into a
// notice (parse tells what a read means). close stops it.
func reader(f *os.File, bufSize int, parse func([]byte) notice) *notifier {
	ch := make(chan notice)
	done := make(chan struct{})
	go func() {
		buf := make([]byte, bufSize)
		for {
			k, err := f.Read(buf)
			var nt notice
			if err != nil {
				if errors.Is(err, os.ErrClosed) {
					return
				}
				nt.err = fmt.Errorf("%s: %w", f.Name(), err)
			} else {
				nt = parse(buf[:k])
			}
			select {
			case ch <- nt:
			case <-done:
				return
			}
			if nt.err != nil || nt.gone {
				return
			}
		}
	}()
	return &notifier{C: ch, close: func() {
		close(done)
		f.Close()
	}}
}

// eventfdOOM registers an eventfd for OOM notifications of a v1 memory
// cgroup (Documentation/admin-guide/cgroup-v1/memory.rst, section 11).
func (c *Cgroup) eventfdOOM() (*notifier, error) {
	dir, ok := c.Dir("memory")
	if !ok {
		return nil, fmt.Errorf("cgroup %s: the memory controller is not mounted", c.Path)
	}
	ctl, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: memory.oom_control: %w", c.Path, err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		ctl.Close()
		return nil, fmt.Errorf("cgroup %s: eventfd: %w", c.Path, err)
	}
	ev := os.NewFile(uintptr(efd), "eventfd")
	reg := fmt.Sprintf("%d %d", efd, ctl.Fd())
	if err := os.WriteFile(filepath.Join(dir, "cgroup.event_control"), []byte(reg), 0); err != nil {
		ev.Close()
		ctl.Close()
		return nil, fmt.Errorf("cgroup %s: cgroup.event_control: %w", c.Path, err)
	}
	n := reader(ev, 8, func(b []byte) notice {
		if len(b) != 8 || binary.NativeEndian.Uint64(b) == 0 {
			return notice{err: fmt.Errorf("cgroup %s: eventfd: short read", c.Path)}
		}
		return notice{}
	})
	stop := n.close
	n.close = func() {
		stop()
		ctl.Close()
	}
	return n, nil
}

// inotifyEvents watches a v2 cgroup's memory.events for changes.
func (c *Cgroup) inotifyEvents() (*notifier, error) {
	dir, ok := c.Dir("")
	if !ok {
		return nil, fmt.Errorf("cgroup %s: no unified hierarchy", c.Path)
	}
	path := filepath.Join(dir, "memory.events")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("cgroup %s: memory.events: %w", c.Path, err)
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: inotify: %w", c.Path, err)
	}
	f := os.NewFile(uintptr(fd), "inotify")
	if _, err := unix.InotifyAddWatch(fd, path, unix.IN_MODIFY|unix.IN_DELETE_SELF); err != nil {
		f.Close()
		return nil, fmt.Errorf("cgroup %s: memory.events: inotify: %w", c.Path, err)
	}
	return reader(f, 4096, func(b []byte) notice {
		for len(b) >= unix.SizeofInotifyEvent {
			mask := binary.NativeEndian.Uint32(b[4:8])
			nameLen := binary.NativeEndian.Uint32(b[12:16])
			if mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF) != 0 {
				return notice{gone: true}
			}
			b = b[min(len(b), unix.SizeofInotifyEvent+int(nameLen)):]
		}
		return notice{}
	}), nil
}
