package repl

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/creack/pty"
)

// A statement's read of the terminal returns a line as typed, io.EOF at
// Ctrl-D, and the context's error as soon as the context ends.
func TestTerminalRead(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	defer master.Close()
	defer slave.Close()
	term, err := newTerminal(int(slave.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer term.close()
	buf := make([]byte, 64)

	master.Write([]byte("first line\nsecond\n"))
	n, err := term.read(context.Background(), buf)
	if err != nil || string(buf[:n]) != "first line\n" {
		t.Errorf("read: %q, %v; want the first line", buf[:n], err)
	}
	n, err = term.read(context.Background(), buf)
	if err != nil || string(buf[:n]) != "second\n" {
		t.Errorf("read: %q, %v; want the second line", buf[:n], err)
	}
	master.Write([]byte{4}) // Ctrl-D at the start of a line
	if n, err = term.read(context.Background(), buf); n != 0 || err != io.EOF {
		t.Errorf("read after Ctrl-D: %q, %v; want io.EOF", buf[:n], err)
	}

	for i := 0; i < 3; i++ { // each read has its own wake-up; none is left over
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		n, err = term.read(ctx, buf)
		if !errors.Is(err, context.Canceled) || n != 0 {
			t.Errorf("read cancelled: %q, %v; want context.Canceled", buf[:n], err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("read cancelled after %v", d)
		}
	}
	master.Write([]byte("after\n"))
	n, err = term.read(context.Background(), buf)
	if err != nil || string(buf[:n]) != "after\n" {
		t.Errorf("read after cancels: %q, %v", buf[:n], err)
	}
}
