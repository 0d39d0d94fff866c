package main

import (
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// validPushPath tells whether p is what --remote-ctrsh may be for push: an
// absolute path of plain characters (letters, digits and ._+/-), the same
// for scp's SFTP and legacy modes and the shell.
func validPushPath(p string) bool {
	return len(p) >= 2 && p[0] == '/' && plainChars(p[1:], "._+/-")
}

// runFleetPush is `ctrsh fleet push --hosts ...`: the binary goes with scp
// to a temporary name beside --remote-ctrsh, is checked there with
// sha256sum, made 0755 and renamed over the old one, so that a run on that
// host sees the old binary or the new one, never half of one.
func runFleetPush(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := defaultFleetFlags()
	rest, err := parseFleetArgs(&f, args, "hosts", "ssh-config", "ssh-option", "parallel", "timeout", "remote-ctrsh", "binary", "json")
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err == nil && (!validPushPath(f.remote) || path.Clean(f.remote) != f.remote) {
		err = fmt.Errorf("--remote-ctrsh %q: push needs an absolute, clean path of letters, digits and ._+/-", f.remote)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh fleet push: %v\n", err)
		return luax.ExitUsage
	}
	if f.help {
		fmt.Fprint(stdout, fleetUsage)
		return luax.ExitOK
	}
	hosts, err := parseHosts(f.hosts)
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh fleet push: %v\n", err)
		return luax.ExitUsage
	}
	bin := f.binary
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			fmt.Fprintf(stderr, "ctrsh fleet push: %v\n", err)
			return luax.ExitInternal
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh fleet push: %v\n", err)
		return luax.ExitUsage
	}
	sum := sha256Hex(data)
	if interp := elfInterpreter(bin); interp != "" {
		fmt.Fprintf(stderr, "ctrsh fleet push: warning: %s is dynamically linked (%s): hosts need the same libraries; 'make static' builds one that runs anywhere\n", bin, interp)
	}

	sig := newSignalCancel(ctx)
	defer sig.stop()
	out := newFleetOutput(f.json, stdout, stderr)
	results := fanOut(sig.ctx, out, hosts, f.parallel, func(host string) hostResult {
		start := time.Now()
		tmp := path.Join(path.Dir(f.remote), ".ctrsh.push."+randomHex(8))
		r := runHost(sig.ctx, out, host, buildSCPCommand(f.ssh, bin, host, tmp), nil, f.timeout)
		if r.Code != 0 {
			if r.Code != 255 && sig.ctx.Err() == nil {
				// The host answered: leave no half-copied file behind.
				cleanup := shellJoin([]string{"rm", "-f", "--", tmp})
				runHost(sig.ctx, &fleetOutput{stdout: io.Discard, stderr: io.Discard, json: true}, host, buildSSHCommand(f.ssh, host, cleanup), nil, f.timeout)
			}
			r.Err = "scp: " + r.Err
			return r
		}
		r = runHost(sig.ctx, out, host, buildSSHCommand(f.ssh, host, pushInstallScript(tmp, f.remote, sum)), nil, f.timeout)
		r.Duration = time.Since(start)
		return r
	})
	if n := sig.received(); n != 0 {
		fmt.Fprintf(stderr, "ctrsh fleet push: stopped by %s\n", unixSignalName(n))
		return 128 + n
	}
	return worstExit(results)
}

// pushInstallScript checks the copied file's sha256 on the host, then makes
// it 0755 and renames it into place (rename(2) in one directory: atomic),
// and prints one JSON row. On a mismatch it removes the copy and exits 1.
// sha256sum is in coreutils and busybox alike.
func pushInstallScript(tmp, target, sum string) string {
	t, dst := shellQuote(tmp), shellQuote(target)
	return "set -e; " +
		"sum=$(sha256sum " + t + " | cut -d' ' -f1); " +
		"if [ \"$sum\" != " + sum + " ]; then rm -f " + t + "; echo \"checksum mismatch: sent " + sum + ", received $sum\" >&2; exit 1; fi; " +
		"chmod 0755 " + t + "; mv -f " + t + " " + dst + "; " +
		"printf '{\"path\":\"%s\",\"sha256\":\"%s\"}\\n' " + dst + " \"$sum\""
}

// elfInterpreter is the program interpreter of an ELF file ("" for a
// static binary or when it cannot be read).
func elfInterpreter(file string) string {
	f, err := elf.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err == nil {
				return string(trimNUL(b))
			}
			return "PT_INTERP"
		}
	}
	return ""
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
