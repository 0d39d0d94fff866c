package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/tabular"
	"github.com/ctrsh/ctrsh/bindings/trust"
	"github.com/ctrsh/ctrsh/scripts"
)

// playbookDirs are searched in order before the bundled playbooks.
func playbookDirs() []string {
	dirs := []string{"/etc/ctrsh/playbooks"}
	if d := os.Getenv("CTRSH_PLAYBOOK_DIR"); d != "" {
		dirs = append([]string{d}, dirs...)
	}
	if home := os.Getenv("HOME"); home != "" {
		dirs = append(dirs, filepath.Join(home, ".config", "ctrsh", "playbooks"))
	}
	return dirs
}

// playbookRef is a playbook found by name: a file, or a bundled one.
type playbookRef struct {
	Name   string
	Path   string // "" for bundled and stdin
	Origin string // the directory, "bundled", or "stdin"
	Source []byte // the text of a playbook read from stdin (`ctrsh run -`)
}

func findPlaybook(name string) (*playbookRef, error) {
	if strings.ContainsRune(name, '/') || strings.HasSuffix(name, ".lua") {
		return &playbookRef{Name: strings.TrimSuffix(filepath.Base(name), ".lua"), Path: name, Origin: filepath.Dir(name)}, nil
	}
	for _, dir := range playbookDirs() {
		p := filepath.Join(dir, name+".lua")
		if _, err := os.Lstat(p); err == nil {
			return &playbookRef{Name: name, Path: p, Origin: dir}, nil
		}
	}
	if _, ok := scripts.Source(name); ok {
		return &playbookRef{Name: name, Origin: "bundled"}, nil
	}
	return nil, fmt.Errorf("no playbook %q (run 'ctrsh playbooks' for the list)", name)
}

// load reads the playbook, through the trust checks when it is a file.
func (r *playbookRef) load() (*trust.File, error) {
	if r.Path != "" {
		return trust.ReadFile(r.Path)
	}
	if r.Origin == originStdin {
		path := "stdin:" + r.Name
		if r.Name == originStdin {
			path = originStdin
		}
		return &trust.File{Path: path, Source: r.Source, SHA256: sha256Hex(r.Source)}, nil
	}
	src, _ := scripts.Source(r.Name)
	return &trust.File{Path: "bundled:" + r.Name, Source: src, SHA256: sha256Hex(src)}, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// runOptions are the flags of `ctrsh run`, accepted anywhere before "--".
type runOptions struct {
	options
	lock, noLock bool
	wait         time.Duration
	viaRun       bool   // `ctrsh run NAME`, not `ctrsh FILE`
	stdinName    string // --playbook-name: the name of a playbook read from stdin
}

// splitRunArgs takes ctrsh's own flags out of the arguments of `ctrsh run
// NAME ...`, so that `ctrsh run pidmap web --json` works; what follows "--"
// is left to the playbook.
func splitRunArgs(o *runOptions, args []string) (rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i:]...), nil
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		switch name {
		case "json":
			o.json = true
		case "safe":
			o.safe = true
		case "raw":
			o.raw = true
		case "lock":
			o.lock = true
		case "no-lock":
			o.noLock = true
		case "timeout", "wait":
			s, err := value()
			if err != nil {
				return nil, err
			}
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return nil, fmt.Errorf("flag --%s: invalid duration %q", name, s)
			}
			if name == "timeout" {
				o.timeout = d
			} else {
				o.wait = d
			}
		case "host", "cri":
			s, err := value()
			if err != nil {
				return nil, err
			}
			if name == "host" {
				o.host = s
			} else {
				o.cri = s
			}
		case "playbook-name":
			s, err := value()
			if err != nil {
				return nil, err
			}
			o.stdinName = s
		default:
			rest = append(rest, a)
		}
	}
	return rest, nil
}

// runPlaybookCmd is `ctrsh run NAME [ARGS...]`.
func runPlaybookCmd(base *options, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o := runOptions{options: *base, viaRun: true}
	rest, err := splitRunArgs(&o, args)
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh run: %v\n", err)
		return luax.ExitUsage
	}
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "ctrsh run: which playbook? usage: ctrsh run NAME [ARGS...] ('ctrsh playbooks' lists them)")
		return luax.ExitUsage
	}
	if rest[0] == "--help" || rest[0] == "-h" {
		fmt.Fprint(stdout, runUsage)
		return luax.ExitOK
	}
	var ref *playbookRef
	if rest[0] == "-" {
		// The playbook's text on stdin: what `ctrsh fleet run` sends over ssh.
		if ref, err = readStdinPlaybook(o.stdinName, stdin); err != nil {
			fmt.Fprintf(stderr, "ctrsh run: %v\n", err)
			return luax.ExitUsage
		}
		stdin = strings.NewReader("")
		defer watchHangup(stdout)()
	} else if ref, err = findPlaybook(rest[0]); err != nil {
		fmt.Fprintf(stderr, "ctrsh run: %v\n", err)
		return luax.ExitUsage
	}
	env := newEnv(&o.options, stdin, stdout, stderr)
	return runScript(env, &o, ref, rest[1:])
}

// runScript runs a playbook file or a bundled playbook: trust checks, lock,
// audit log, then the chunk.
func runScript(env *luax.Env, o *runOptions, ref *playbookRef, args []string) (code int) {
	tf, err := ref.load()
	if err != nil {
		if errors.Is(err, trust.ErrUntrusted) {
			fmt.Fprintf(env.Stderr, "ctrsh: refused: %v\n", err)
			return luax.ExitRefused
		}
		fmt.Fprintf(env.Stderr, "ctrsh: %v\n", err)
		return luax.ExitUsage
	}
	// The lock is on by default for `ctrsh run` without a terminal (cron).
	if o.lock || o.wait > 0 || (o.viaRun && !o.noLock && !luax.IsTerminal(env.Stdin)) {
		ctx, cancel := signalContext(context.Background())
		release, err := acquireLock(ctx, ref.Name, o.wait)
		cancel()
		if err != nil {
			switch {
			case errors.Is(err, errLocked):
				fmt.Fprintf(env.Stderr, "ctrsh: %v\n", err)
				return luax.ExitLocked
			case errors.Is(err, trust.ErrUntrusted):
				fmt.Fprintf(env.Stderr, "ctrsh: refused: %v\n", err)
				return luax.ExitRefused
			}
			fmt.Fprintf(env.Stderr, "ctrsh: %v\n", err)
			return luax.ExitError
		}
		defer release()
	}
	env.Playbook, env.PlaybookSHA256 = ref.Name, tf.SHA256
	env.Audit = newAuditLog(ref.Name, tf.SHA256, func(msg string) {
		fmt.Fprintf(env.Stderr, "ctrsh: warning: %s\n", msg)
	}).Record
	chunkName := "@" + tf.Path
	if ref.Path == "" {
		chunkName = "@" + ref.Name + ".lua"
	}
	if ref.Origin == originStdin {
		chunkName = "@" + tf.Path
		done, err := auditStdinRun(env, ref)
		if err != nil {
			fmt.Fprintf(env.Stderr, "ctrsh: refused: %v\n", err)
			return luax.ExitRefused
		}
		defer func() { done(code) }()
	}
	if ref.Path != "" {
		env.ModuleDirs = append([]string{filepath.Dir(ref.Path)}, env.ModuleDirs...)
	}
	argv0 := ref.Path
	if argv0 == "" {
		argv0 = ref.Name
	}
	return runChunk(env, &o.options, chunk{name: chunkName, src: string(tf.Source), argv0: argv0, args: args})
}

// runPlaybooksCmd is `ctrsh playbooks` and `ctrsh playbooks show NAME`.
func runPlaybooksCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) >= 1 && args[0] == "show" {
		if len(args) != 2 {
			fmt.Fprintln(stderr, "ctrsh playbooks show: usage: ctrsh playbooks show NAME")
			return luax.ExitUsage
		}
		ref, err := findPlaybook(args[1])
		if err != nil {
			fmt.Fprintf(stderr, "ctrsh playbooks show: %v\n", err)
			return luax.ExitUsage
		}
		tf, err := ref.load()
		if err != nil {
			fmt.Fprintf(stderr, "ctrsh playbooks show: %v\n", err)
			if errors.Is(err, trust.ErrUntrusted) {
				return luax.ExitRefused
			}
			return luax.ExitUsage
		}
		fmt.Fprintf(stdout, "-- %s (%s)\n", ref.Name, ref.Origin)
		stdout.Write(tf.Source)
		return luax.ExitOK
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "ctrsh playbooks: unknown argument %q; usage: ctrsh playbooks [show NAME]\n", args[0])
		return luax.ExitUsage
	}
	t := &tabular.Table{Columns: []tabular.Column{{Key: "name", Keep: true}, {Key: "from", Keep: true}, {Key: "description", Keep: true}}}
	for _, p := range listPlaybooks() {
		t.Rows = append(t.Rows, []any{p.Name, p.From, p.Description})
	}
	io.WriteString(stdout, t.String(tabular.Options{}))
	return luax.ExitOK
}
