package main

// ctrsh completion: shell completion for bash, zsh and fish. Each script
// is a few lines that ask ctrsh itself (`ctrsh __complete WORDS...`) what
// may follow the words typed, so one Go function completes for all three:
// subcommands and flags (from cli.go), playbook names, and container names
// (from the engine, within a short timeout).

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/containers"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

const completionUsage = `usage: ctrsh completion bash|zsh|fish

Print the completion script for a shell: subcommands, flags, playbook names
and container names (asked of the engine, for at most half a second).
  bash   source <(ctrsh completion bash)    or save it as
         /usr/share/bash-completion/completions/ctrsh
  zsh    source <(ctrsh completion zsh)     or save it as _ctrsh in $fpath
  fish   ctrsh completion fish | source     or save it as
         ~/.config/fish/completions/ctrsh.fish
make install puts all three in place.
`

// runCompletion is `ctrsh completion SHELL`.
func runCompletion(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "--help" || args[0] == "-h") {
		fmt.Fprint(stdout, completionUsage)
		return luax.ExitOK
	}
	if len(args) != 1 {
		fmt.Fprint(stderr, completionUsage)
		return luax.ExitUsage
	}
	script, ok := completionScripts[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ctrsh completion: no completion for %q: bash, zsh or fish\n", args[0])
		return luax.ExitUsage
	}
	fmt.Fprint(stdout, script)
	return luax.ExitOK
}

var completionScripts = map[string]string{
	"bash": `# bash completion for ctrsh: source <(ctrsh completion bash)
_ctrsh() {
    local cur=${COMP_WORDS[COMP_CWORD]} line files=0 IFS=$'\n'
    local -a cands=()
    for line in $("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null); do
        if [[ $line == :files ]]; then files=1; else cands+=("$line"); fi
    done
    COMPREPLY=($(compgen -W "${cands[*]}" -- "$cur"))
    if ((files)); then
        compopt -o filenames 2>/dev/null
        COMPREPLY+=($(compgen -d -- "$cur") $(compgen -f -X '!*.lua' -- "$cur"))
    fi
}
complete -F _ctrsh ctrsh
`,
	"zsh": `#compdef ctrsh
# zsh completion for ctrsh: source <(ctrsh completion zsh), or save as _ctrsh in $fpath
_ctrsh() {
    local line files=0
    local -a cands
    for line in "${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}"; do
        if [[ $line == :files ]]; then files=1; elif [[ -n $line ]]; then cands+=("$line"); fi
    done
    compadd -a cands
    ((files)) && _files -g '*.lua(-.)' 
    return 0
}
if [[ "${funcstack[1]}" == _ctrsh ]]; then
    _ctrsh "$@"
else
    compdef _ctrsh ctrsh
fi
`,
	"fish": `# fish completion for ctrsh: ctrsh completion fish | source
function __ctrsh_complete
    set -l words (commandline -opc) (commandline -ct)
    for line in ($words[1] __complete $words[2..-1] 2>/dev/null)
        if test "$line" = ":files"
            __fish_complete_suffix .lua
        else
            echo $line
        end
    end
end
complete -c ctrsh -f -a '(__ctrsh_complete)'
`,
}

// runComplete is `ctrsh __complete WORDS...`: what may replace the last
// word, one a line (the shell keeps those that start with it); ":files"
// asks the shell to offer Lua files (and directories) too.
func runComplete(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{""}
	}
	cands, files := complete(ctx, args)
	for _, c := range cands {
		fmt.Fprintln(stdout, c)
	}
	if files {
		fmt.Fprintln(stdout, ":files")
	}
	return luax.ExitOK
}

// complete returns the words that may replace the last of words (the
// ones typed after "ctrsh"), and whether file names may.
func complete(ctx context.Context, words []string) ([]string, bool) {
	cur, prev := words[len(words)-1], ""
	if len(words) > 1 {
		prev = words[len(words)-2]
	}
	if len(words) == 1 {
		if strings.HasPrefix(cur, "-") {
			return flagNames(globalFlags()), false
		}
		return commandNames(), true
	}
	if c := findCommand(words[0]); c != nil {
		return completeCommand(ctx, *c, words[1:], prev)
	}
	// ctrsh [flags] FILE.lua ARGS...: flags, then files.
	if strings.HasPrefix(cur, "-") {
		return flagNames(globalFlags()), false
	}
	return nil, true
}

// completeCommand completes the words after a subcommand.
func completeCommand(ctx context.Context, c command, words []string, prev string) ([]string, bool) {
	cur := words[len(words)-1]
	host := hostOf(words)
	switch {
	case prev == "-t" || prev == "--target" || prev == "--container" || (c.Name == "top" && prev == "--filter"):
		return containerNames(ctx, host), false
	case c.Name == "top" && prev == "--sort":
		return []string{"cpu", "mem", "pids", "name"}, false
	case strings.HasPrefix(cur, "-"):
		return c.flagNames(), false
	case len(words) == 1 && len(c.Subs) > 0:
		return c.Subs, false
	case len(words) == 1 && c.Arg == "playbook":
		return append(playbookNames(), "-"), true
	case len(words) == 2 && (c.Name == "playbooks" && words[0] == "show" || c.Name == "fleet" && words[0] != "push"):
		return playbookNames(), true
	}
	return nil, false
}

func commandNames() []string {
	var out []string
	for _, c := range commands() {
		out = append(out, c.Name)
	}
	return out
}

func playbookNames() []string {
	var out []string
	for _, p := range listPlaybooks() {
		out = append(out, p.Name)
	}
	return out
}

// hostOf is the --host given among words, else "".
func hostOf(words []string) string {
	for i, w := range words {
		if v, ok := strings.CutPrefix(w, "--host="); ok {
			return v
		}
		if (w == "--host" || w == "-host") && i+1 < len(words) {
			return words[i+1]
		}
	}
	return ""
}

// completionTimeout bounds asking the engine for names: a Tab must not hang.
var completionTimeout = 500 * time.Millisecond

// validContainerName tells whether name is what the engine allows in a
// name, or POD/NAME of two such; anything else (a hostile name would be
// typed into the shell) is left out.
func validContainerName(name string) bool {
	first, second, pod := strings.Cut(name, "/")
	return validNamePart(first) && (!pod || validNamePart(second))
}

// validNamePart tells whether s is a letter or digit followed by letters,
// digits, '_', '.' and '-'.
func validNamePart(s string) bool {
	return s != "" && isAlnum(s[0]) && plainChars(s[1:], "_.-")
}

// containerNames are the names of every container (running or not) of
// every runtime the containers module finds — a pod's as POD/NAME, the
// reference containers.get and ctrsh nsenter -t take — or none when they
// do not answer within completionTimeout (what answers later is dropped).
func containerNames(ctx context.Context, host string) []string {
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	got := make(chan []string, 1)
	go func() { got <- listNames(ctx, host) }()
	select {
	case names := <-got:
		return names
	case <-ctx.Done():
		return nil
	}
}

func listNames(ctx context.Context, host string) []string {
	L := bindings.New(&luax.Env{Stdout: io.Discard, Stderr: io.Discard, Stdin: strings.NewReader(""), DockerHost: host})
	defer L.Close()
	list, _ := containers.List(ctx, containers.Runtimes(L), containers.ListOptions{All: true})
	var out []string
	for _, c := range list {
		name := c.Name
		if p := c.PodOf(); p != nil && p.Name != "" {
			name = p.Name + "/" + c.Name
		}
		if validContainerName(name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
