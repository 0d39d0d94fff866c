package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// sshOptions say how ctrsh fleet calls the system ssh and scp. Everything
// else (keys, agent, known_hosts, ProxyJump, User, Port) comes from the
// user's ssh configuration, as for any ssh command they type.
type sshOptions struct {
	configFile     string        // --ssh-config: ssh -F FILE
	options        []string      // --ssh-option, in order: ssh -o OPTION
	connectTimeout time.Duration // ConnectTimeout (whole seconds, at least 1)
}

// defaultConnectTimeout is ssh's ConnectTimeout unless --ssh-option sets one.
const defaultConnectTimeout = 10 * time.Second

// sshBaseArgs are the options ssh and scp share. BatchMode=yes comes first
// and so cannot be overridden (ssh keeps the first value it reads): a
// password or host-key prompt would wait forever in a fan-out. The user's
// options come next, so that their ConnectTimeout or ServerAliveInterval win
// over ctrsh's defaults after them. Host keys are checked as the user's
// configuration says; ctrsh never turns StrictHostKeyChecking off.
func sshBaseArgs(o sshOptions) []string {
	args := []string{"-o", "BatchMode=yes"}
	if o.configFile != "" {
		args = append(args, "-F", o.configFile)
	}
	for _, opt := range o.options {
		args = append(args, "-o", opt)
	}
	secs := int(o.connectTimeout / time.Second)
	if secs < 1 {
		secs = int(defaultConnectTimeout / time.Second)
	}
	return append(args,
		"-o", "ConnectTimeout="+strconv.Itoa(secs),
		"-o", "ServerAliveInterval=15",
		"-o", "ServerAliveCountMax=3",
	)
}

// buildSSHCommand is the argv that runs the remote command line on host:
// no pty (-T: stdout carries JSON lines, stdin the playbook), no agent or
// X11 forwarding to the hosts (-a -x), and "--" before the destination so
// that neither the host nor the command is read as an option.
func buildSSHCommand(o sshOptions, host, remote string) []string {
	args := []string{"ssh", "-T", "-a", "-x"}
	args = append(args, sshBaseArgs(o)...)
	return append(args, "--", host, remote)
}

// buildSCPCommand is the argv that copies a local file to host:path.
func buildSCPCommand(o sshOptions, local, host, remotePath string) []string {
	args := []string{"scp", "-q"}
	args = append(args, sshBaseArgs(o)...)
	return append(args, "--", local, scpTarget(host, remotePath))
}

// scpTarget is host:path, with an IPv6 address in brackets.
func scpTarget(host, path string) string {
	user, h, hasUser := strings.Cut(host, "@")
	if !hasUser {
		user, h = "", host
	}
	if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
		h = "[" + h + "]"
	}
	if hasUser {
		h = user + "@" + h
	}
	return h + ":" + path
}

// remoteRun says what the remote command line of `ctrsh fleet run` is.
type remoteRun struct {
	ctrsh    string        // --remote-ctrsh
	sudo     bool          // --sudo: sudo -n before it
	playbook string        // the playbook's name (a label in the host's audit log)
	timeout  time.Duration // passed on as --timeout
	safe     bool          // passed on as --safe
	args     []string      // the playbook's arguments, as the user gave them
}

// remoteCommand is the command line ssh sends to the host's shell:
// `ctrsh run - --json --playbook-name NAME [--timeout D] [--safe] ARGS...`,
// every word quoted for a POSIX shell. The playbook's text goes on stdin.
func remoteCommand(r remoteRun) string {
	var words []string
	if r.sudo {
		words = append(words, "sudo", "-n", "--")
	}
	words = append(words, r.ctrsh, "run", "-", "--json", "--playbook-name", r.playbook)
	if r.timeout > 0 {
		words = append(words, "--timeout", r.timeout.String())
	}
	if r.safe {
		words = append(words, "--safe")
	}
	words = append(words, r.args...)
	return shellJoin(words)
}

// shellJoin quotes each word for a POSIX shell (sh, bash, dash, zsh) and
// joins them with spaces.
func shellJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}

// shellQuote leaves a word of plain characters as it is and puts anything
// else in single quotes (a quote inside becomes '\”). A word starting with
// '=' or '~' is quoted too (zsh and the tilde expand them).
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	plain := s[0] != '=' && s[0] != '~'
	for i := 0; plain && i < len(s); i++ {
		c := s[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("@%+=:,./_-", c) >= 0
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkSSHOption refuses options that would turn host authentication off:
// a fleet run sends code to be run as root, so each host must prove it is
// the host known_hosts names. accept-new (trust on first use) is allowed.
func checkSSHOption(opt string) error {
	key, val, ok := strings.Cut(opt, "=")
	if !ok {
		key, val, _ = strings.Cut(strings.TrimSpace(opt), " ")
	}
	key = strings.ToLower(strings.TrimSpace(key))
	val = strings.ToLower(strings.Trim(strings.TrimSpace(val), `"`))
	switch {
	case key == "stricthostkeychecking" && (val == "no" || val == "off"):
		return fmt.Errorf("--ssh-option %q: ctrsh fleet never turns host key checking off (accept-new trusts a host on first use)", opt)
	case key == "userknownhostsfile" && val == "/dev/null":
		return fmt.Errorf("--ssh-option %q: ctrsh fleet needs known host keys to check", opt)
	case key == "batchmode" && val != "yes":
		return fmt.Errorf("--ssh-option %q: ctrsh fleet runs ssh with BatchMode=yes (nobody answers prompts in a fan-out)", opt)
	}
	return nil
}

// checkHost refuses a host name that ssh could read as an option or that
// carries characters no host name has.
func checkHost(h string) error {
	if h == "" {
		return fmt.Errorf("empty host name")
	}
	if h[0] == '-' {
		return fmt.Errorf("host %q: a host name cannot start with '-'", h)
	}
	for _, r := range h {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("'\"`$;&|<>()\\*?!{}", r) {
			return fmt.Errorf("host %q: unexpected character %q", h, r)
		}
	}
	return nil
}
