package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/repl/ptytest"
)

// readmeBlock is one ```lua block of README.md.
type readmeBlock struct {
	line  int      // of the opening fence
	text  string   // the block
	shell []string // for a shell transcript: the statements typed at "ctrsh> "
}

func readmeLuaBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	src, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var cur *readmeBlock
	for i, line := range strings.Split(string(src), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```lua":
			cur = &readmeBlock{line: i + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
			if stmt, ok := strings.CutPrefix(line, "ctrsh> "); ok {
				cur.shell = append(cur.shell, stmt)
			}
		}
	}
	return blocks
}

// compiles reports whether src compiles as the shell takes it: an
// expression alone is printed, as with `return <line>`.
func compiles(src string, shell bool) error {
	if shell {
		if _, err := compileLua("return " + src); err == nil {
			return nil
		}
	}
	_, err := compileLua(src)
	return err
}

func compileLua(src string) (*lua.FunctionProto, error) {
	stmts, err := parse.Parse(strings.NewReader(src), "README")
	if err != nil {
		return nil, err
	}
	return lua.Compile(stmts, "README")
}

var containerRefRE = regexp.MustCompile(`(?:docker\.container|containers\.get)\("([^"]+)"\)`)

// TestREADMELuaBlocks checks every ```lua block of README.md: each
// compiles; the shell transcript runs at ctrsh on a terminal, against a
// test container named as the transcript's; the playbooks run as scripts;
// a block that needs a container of its own (an image and a server this
// repository lacks) is only compiled.
func TestREADMELuaBlocks(t *testing.T) {
	blocks := readmeLuaBlocks(t)
	if len(blocks) < 4 {
		t.Fatalf("README.md: %d lua blocks, want at least 4", len(blocks))
	}
	for _, b := range blocks {
		t.Run(fmt.Sprintf("line%d", b.line), func(t *testing.T) {
			if b.shell != nil {
				for _, stmt := range b.shell {
					if err := compiles(stmt, true); err != nil {
						t.Errorf("README.md:%d: %q does not compile: %v", b.line, stmt, err)
					}
				}
			} else if err := compiles(b.text, false); err != nil {
				t.Errorf("README.md:%d: block does not compile: %v", b.line, err)
			}
			if t.Failed() {
				return
			}
			refs := containerRefRE.FindAllStringSubmatch(b.text, -1)
			switch {
			case b.shell != nil && nodeRefRE.MatchString(b.text):
				runNodeTranscript(t, b)
			case b.shell != nil:
				runTranscript(t, b)
			case strings.Contains(b.text, "playbook{"):
				runPlaybookBlock(t, b)
			case len(refs) > 0:
				t.Logf("README.md:%d: compiled only: it needs a container %q with its own image", b.line, refs[0][1])
			default:
				t.Errorf("README.md:%d: a block this test does not know how to run", b.line)
			}
		})
	}
}

// runTranscript types the statements of a shell transcript at ctrsh on a
// terminal, the container it names being a test container of that name
// (made unique), and checks that none fails. A statement that watches
// (events, traces) is ended as a person ends it, with Ctrl-C; the events
// loop after a container died.
func runTranscript(t *testing.T, b readmeBlock) {
	testengine.NeedRoot(t, "c:run enters the container's namespaces")
	refs := containerRefRE.FindAllStringSubmatch(b.text, -1)
	if len(refs) == 0 {
		t.Fatalf("README.md:%d: the transcript names no container", b.line)
	}
	ref := refs[0][1]
	name := fmt.Sprintf("%s-readme-%d", ref, time.Now().UnixNano())
	startBusybox(t, name, "sh", "-c", "echo hello from the readme; exec sleep 1000")
	victim := fmt.Sprintf("victim-readme-%d", time.Now().UnixNano())
	startBusybox(t, victim, "sleep", "1000")

	cmd := exec.Command(ctrshBinary(t))
	cmd.Env = append(engineEnv(t, "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit.jsonl")), "HOME="+t.TempDir(), "TERM=xterm", "NO_COLOR=1")
	st := ptytest.Start(t, cmd)
	const prompt = `ctrsh> `
	st.Expect(prompt)
	for _, stmt := range b.shell {
		line := strings.ReplaceAll(stmt, `"`+ref+`"`, `"`+name+`"`)
		before := len(st.Output())
		st.Send(line + "\r")
		st.Expect(`\r\n`) // the end of the line's echo: the statement runs
		watch := strings.HasPrefix(line, "for ") || strings.Contains(line, "function(")
		if watch && !finishes(st, before, prompt, 1500*time.Millisecond) {
			// A watch, as a person would run it: it shows what happens
			// (for the events loop, a container that dies), and Ctrl-C
			// ends it.
			if strings.Contains(line, "events.stream") {
				testengine.MustDocker(t, "kill", victim)
				st.Expect(regexp.QuoteMeta(victim) + `\tdie`)
			}
			st.Send("\x03")
			st.Expect(`interrupted`)
		}
		st.Expect(prompt)
		out := st.Output()[before:]
		if i := strings.Index(out, "\n"); i >= 0 {
			out = out[i+1:] // what the statement printed, after its echo
		}
		if i := strings.LastIndex(out, prompt); i >= 0 {
			out = out[:i]
		}
		for _, bad := range []string{"stdin:", "error", "attempt to", "nil\t"} {
			if strings.Contains(out, bad) || strings.HasPrefix(out, "nil") {
				t.Errorf("README.md:%d: %s\nprinted %q", b.line, line, out)
			}
		}
		switch {
		case strings.Contains(line, `:read("a")`):
			if !strings.Contains(out, `"`+name+`\n"`) {
				t.Errorf("README.md:%d: %s\nprinted %q, want the container's hostname %q", b.line, line, out, name)
			}
		case strings.Contains(line, "HOSTNAME"):
			if !strings.Contains(out, `"`+name+`"`) {
				t.Errorf("README.md:%d: %s\nprinted %q, want %q", b.line, line, out, name)
			}
		case strings.Contains(line, "c:logs"):
			if !strings.Contains(out, "hello from the readme") {
				t.Errorf("README.md:%d: %s\nprinted %q, want the container's log line", b.line, line, out)
			}
		case strings.HasPrefix(line, "c.pid"):
			if !regexp.MustCompile(`\n[1-9][0-9]*\r?\n`).MatchString("\n" + out) {
				t.Errorf("README.md:%d: %s\nprinted %q, want a PID", b.line, line, out)
			}
		}
	}
	st.Send("\x04")
	if code := st.Wait(); code != 0 {
		t.Errorf("ctrsh exited %d", code)
	}
}

// finishes reports whether the statement sent at output offset before
// gave the prompt back within d.
func finishes(st *ptytest.Term, before int, prompt string, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out := st.Output()[before:]
		if i := strings.Index(out, "\r\n"); i >= 0 && strings.Contains(out[i:], prompt) {
			return true
		}
	}
	return false
}

// runPlaybookBlock runs a playbook of README.md as a script: an argument
// named container gets a test container.
func runPlaybookBlock(t *testing.T, b readmeBlock) {
	name := fmt.Sprintf("pb-readme-%d", time.Now().UnixNano())
	startBusybox(t, name, "sleep", "1000")
	path := filepath.Join(t.TempDir(), "readme.lua")
	if err := os.WriteFile(path, []byte(b.text), 0o644); err != nil {
		t.Fatal(err)
	}
	var args []string
	if strings.Contains(b.text, `name = "container"`) {
		args = append(args, name)
	}
	r := ctrshEnv(t, engineEnv(t, "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit.jsonl")), "", append([]string{path}, args...)...)
	if r.code != 0 || r.stderr != "" {
		t.Errorf("README.md:%d: exit %d\nstdout %q\nstderr %q", b.line, r.code, r.stdout, r.stderr)
	}
	if args != nil && !strings.Contains(r.stdout, name) {
		t.Errorf("README.md:%d: no row for %s in %q", b.line, name, r.stdout)
	}
}
