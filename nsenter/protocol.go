package nsenter

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// The protocol between the Go parent and the C constructor (nsexec.c).
//
// The parent starts a sealed copy of its own binary with an environment of
// one variable, gateEnv, set to the number of the child's end of a
// socketpair, the status socket (fd 3), and the target's pidfd as fd 4.
// Nothing else of the target's environment, or of ours, is in it: the host's
// dynamic loader and the Go runtime of the helper read their settings
// (LD_PRELOAD, GODEBUG...) from it before any namespace is joined. On the socket it
// writes a config record, then (chunk mode) the payload, then shuts down its
// writing side. The record is configMagic, a little-endian uint32 length,
// and "key\x00value\x00" pairs:
//
//	pid      the target PID          pidfd    the fd of its pidfd (4)
//	ns       CLONE_NEW* mask          mode     "exec" or "run"
//	nsfiles  "1": open /proc/PID/ns/* instead of setns(pidfd) (tests)
//	workdir  chdir there after joining  user  "user[:group]" inside
//	cgroup   a host cgroup.procs file to join (repeated)
//	arg      one argv element (repeated, exec mode)
//	env      one KEY=VALUE of the command's environment (repeated, exec
//	         mode), given to execve inside the container
//
// Back on the socket comes one message: tagError, tagGone or tagNotFound followed by
// text (the helper then exits ExitSetup, ExitCannotExec or ExitNotFound),
// tagResult followed by the chunk's result, or nothing at all when the
// command was executed (the socket is close-on-exec).
const (
	gateEnv     = "_CTRSH_NSENTER"
	configMagic = "CTRSHNS1"
	statusFD    = 3
	pidFD       = 4

	tagError    = 'E'
	tagNotFound = 'N'
	tagGone     = 'G'
	tagResult   = 'R'
)

// Namespace flags of clone(2), as setns(2) takes them.
const (
	cloneNewNS     = 0x00020000
	cloneNewCgroup = 0x02000000
	cloneNewUTS    = 0x04000000
	cloneNewIPC    = 0x08000000
	cloneNewUser   = 0x10000000
	cloneNewPID    = 0x20000000
	cloneNewNet    = 0x40000000
	cloneNewTime   = 0x00000080
)

var kindFlags = map[string]int{
	"mnt": cloneNewNS, "uts": cloneNewUTS, "ipc": cloneNewIPC, "net": cloneNewNet,
	"pid": cloneNewPID, "user": cloneNewUser, "cgroup": cloneNewCgroup, "time": cloneNewTime,
}

// config is what the C constructor needs.
type config struct {
	pid     int
	nsmask  int
	run     bool
	nsfiles bool
	workdir string
	user    string
	cgroups []string
	argv    []string
	env     []string // the command's environment (exec mode)
}

func (c *config) encode() ([]byte, error) {
	var body bytes.Buffer
	put := func(k, v string) error {
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%s %q contains a NUL byte", k, v)
		}
		body.WriteString(k)
		body.WriteByte(0)
		body.WriteString(v)
		body.WriteByte(0)
		return nil
	}
	mode := "exec"
	if c.run {
		mode = "run"
	}
	if err := put("pid", strconv.Itoa(c.pid)); err != nil {
		return nil, err
	}
	put("pidfd", strconv.Itoa(pidFD))
	put("ns", strconv.Itoa(c.nsmask))
	put("mode", mode)
	if c.nsfiles {
		put("nsfiles", "1")
	}
	for _, kv := range [][2]string{{"workdir", c.workdir}, {"user", c.user}} {
		if kv[1] == "" {
			continue
		}
		if err := put(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	for _, p := range c.cgroups {
		if err := put("cgroup", p); err != nil {
			return nil, err
		}
	}
	for _, a := range c.argv {
		if err := put("arg", a); err != nil {
			return nil, err
		}
	}
	for _, kv := range c.env {
		if err := put("env", kv); err != nil {
			return nil, err
		}
	}
	out := make([]byte, 0, 12+body.Len())
	out = append(out, configMagic...)
	out = binary.LittleEndian.AppendUint32(out, uint32(body.Len()))
	return append(out, body.Bytes()...), nil
}

// nsMask converts kinds to their CLONE_NEW* flags.
func nsMask(kinds []string) (int, error) {
	mask := 0
	for _, k := range kinds {
		f, ok := kindFlags[k]
		if !ok {
			return 0, fmt.Errorf("unknown namespace kind %q (known: %s)", k, strings.Join(kindNames, ", "))
		}
		mask |= f
	}
	return mask, nil
}
