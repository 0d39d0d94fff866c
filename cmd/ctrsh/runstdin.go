package main

// `ctrsh run -`: a playbook whose text comes on standard input. This is how
// `ctrsh fleet run` reaches a host: `ssh HOST -- ctrsh run - --json ARGS`
// with the playbook on ssh's stdin, so a host needs only the binary.
//
// Trust. A playbook file is checked (owner, mode, no symlink) because
// someone other than the invoker could have written it; text on stdin was
// chosen by the invoker alone, exactly as `-e CODE` is. Whoever can start
// `ctrsh run -` as root (an ssh login as root, a sudo rule) can already run
// anything as root, so reading code from stdin gives nobody a new power; the
// trust boundary of a fleet is the ssh login (authorized_keys, sudoers). What
// ctrsh adds on the host is accountability and the usual limits: the run is
// written to the audit log before it starts (action "playbook", origin
// "stdin", the claimed name, the sha256 of the exact text received, the ssh
// client's address) and again with its exit code; `require` searches only
// the host's own playbook directories, checked as for any playbook; `--safe`
// is honoured. The name is only a label chosen by the sender: the sha256 is
// what identifies the code.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// originStdin is the Origin of a playbook read from standard input.
const originStdin = "stdin"

// maxStdinPlaybook bounds the text read from stdin.
const maxStdinPlaybook = 16 << 20

// validStdinName tells whether name is what --playbook-name accepts: it
// lands in audit records, lock file names and messages. A letter or digit,
// then letters, digits, '.', '_' and '-': at most 64 in all.
func validStdinName(name string) bool {
	return len(name) >= 1 && len(name) <= 64 && isAlnum(name[0]) && plainChars(name[1:], "._-")
}

// isAlnum tells whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

// plainChars tells whether every byte of s is an ASCII letter or digit or
// one of the bytes of extra. The names ctrsh checks this way are checked by
// hand rather than with package-level regexps, which every ctrsh run would
// compile at its start.
func plainChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && strings.IndexByte(extra, s[i]) < 0 {
			return false
		}
	}
	return true
}

// readStdinPlaybook reads a playbook's text from stdin, named name ("stdin"
// when empty).
func readStdinPlaybook(name string, stdin io.Reader) (*playbookRef, error) {
	if name == "" {
		name = "stdin"
	}
	if !validStdinName(name) {
		return nil, fmt.Errorf("--playbook-name %q: letters, digits, '.', '_' and '-' only (at most 64)", name)
	}
	if luax.IsTerminal(stdin) {
		return nil, fmt.Errorf("'-' reads the playbook's text from standard input, which is a terminal (ctrsh run - < FILE)")
	}
	src, err := io.ReadAll(io.LimitReader(stdin, maxStdinPlaybook+1))
	if err != nil {
		return nil, fmt.Errorf("reading the playbook from stdin: %w", err)
	}
	if len(src) > maxStdinPlaybook {
		return nil, fmt.Errorf("the playbook on stdin is larger than %d bytes", maxStdinPlaybook)
	}
	return &playbookRef{Name: name, Origin: originStdin, Source: src}, nil
}

// auditStdinRun writes the audit record of a stdin playbook's start and
// returns the function that writes its end with the exit code. env.Audit
// already carries the playbook's name and sha256. As for entering a
// container, a start record that cannot be written (as root) refuses the
// run: code from elsewhere does not run unrecorded.
func auditStdinRun(env *luax.Env, ref *playbookRef) (done func(code int), err error) {
	if env.Audit == nil {
		return func(int) {}, nil
	}
	fields := map[string]any{"phase": "start", "origin": originStdin}
	if c := os.Getenv("SSH_CONNECTION"); c != "" {
		fields["ssh_connection"] = c
	}
	subject := "playbook " + ref.Name
	if err := env.Audit("playbook", subject, fields); err != nil {
		return nil, err
	}
	return func(code int) {
		result := "ok"
		if code != luax.ExitOK {
			result = "error"
		}
		env.Audit("playbook", subject, map[string]any{"phase": "end", "origin": originStdin, "result": result, "code": code})
	}, nil
}

// watchHangup stops the run, as a hangup does (SIGHUP, exit 129), when
// nobody reads stdout any more: when the ssh connection of a fleet run goes
// (Ctrl-C or a timeout on the fleet's side), sshd closes the reading end of
// the pipe, and without a terminal nothing else would tell the playbook (a
// watch would run on until it next writes). Only for a pipe or a socket.
func watchHangup(stdout io.Writer) (stop func()) {
	f, ok := stdout.(*os.File)
	if !ok {
		return func() {}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return func() {}
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFIFO && t != unix.S_IFSOCK {
		return func() {}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return func() {}
	}
	fd := int(f.Fd())
	go func() {
		defer r.Close()
		fds := []unix.PollFd{{Fd: int32(fd)}, {Fd: int32(r.Fd()), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			if err == unix.EINTR {
				continue
			}
			if err != nil || fds[1].Revents != 0 {
				return
			}
			if fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
				syscall.Kill(os.Getpid(), syscall.SIGHUP)
				return
			}
		}
	}()
	return func() { w.Close() }
}
