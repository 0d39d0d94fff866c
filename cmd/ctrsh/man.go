package main

import (
	"flag"
	"fmt"
	"strings"
)

// manPage is ctrsh.1, made from the structure `ctrsh --help` prints
// (cli.go): `go test ./cmd/ctrsh -run TestManPage -update-man` (make man)
// writes it, TestManPageIsUpToDate checks the committed one.
func manPage() string {
	var b strings.Builder
	b.WriteString(".\\\" Made by ctrsh from its own help text (make man); do not edit.\n")
	b.WriteString(".TH CTRSH 1 \"\" \"ctrsh\" \"User Commands\"\n")
	b.WriteString(".nh\n.ad l\n") // no hyphens, ragged right: flags and names stay whole
	b.WriteString(".SH NAME\nctrsh \\- a shell for debugging containers\n")
	b.WriteString(".SH SYNOPSIS\n")
	for _, s := range synopses {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roffArg(s.Line), roff(s.What))
	}
	b.WriteString(".SH DESCRIPTION\n")
	b.WriteString(paragraphs(description))
	b.WriteString(".SH OPTIONS\n")
	b.WriteString(manFlags(globalFlags()))
	b.WriteString(".SH COMMANDS\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, ".SS \"ctrsh %s\"\n%s.\n", c.Name, roff(c.Summary))
		b.WriteString(preformatted(c.Usage))
		if c.Flags != nil {
			b.WriteString(manFlags(c.Flags()))
		}
	}
	b.WriteString(".SH EXIT STATUS\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roffArg(e.Code), roff(e.Long))
	}
	b.WriteString(".TP\n.B 69\nctrsh fleet: no host could be reached (otherwise the fleet exits with its worst host's code)\n")
	b.WriteString(".SH ENVIRONMENT\n")
	for _, e := range environment {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roffArg(e.Name), roff(e.What))
	}
	b.WriteString(".SH FILES\n")
	for _, f := range files {
		fmt.Fprintf(&b, ".TP\n.I %s\n%s\n", roffArg(f.Path), roff(f.What))
	}
	b.WriteString(".SH EXAMPLES\n")
	b.WriteString(preformatted(examples + "\n"))
	b.WriteString(".SH SEE ALSO\n.BR docker (1),\n.BR nsenter (1),\n.BR crictl (1),\n.BR lua (1)\n")
	return b.String()
}

// manFlags is a flag set as a tagged list.
func manFlags(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		tag := "\\fB" + roff(flagName(f.Name)) + "\\fR"
		if name != "" {
			tag += " \\fI" + roff(name) + "\\fR"
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(&b, ".TP\n%s\n%s\n", tag, roff(usage))
	})
	return b.String()
}

// paragraphs is text whose blank lines part paragraphs.
func paragraphs(text string) string {
	var b strings.Builder
	for _, p := range strings.Split(text, "\n\n") {
		fmt.Fprintf(&b, ".PP\n%s\n", roff(strings.Join(strings.Fields(p), " ")))
	}
	return b.String()
}

// preformatted is text shown as it is, in its own lines.
func preformatted(text string) string {
	var b strings.Builder
	b.WriteString(".PP\n.nf\n")
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(roffLine(line))
		b.WriteByte('\n')
	}
	b.WriteString(".fi\n")
	return b.String()
}

// roff escapes text for a line of roff: backslashes, and a leading dot
// or quote that would make it a request.
func roff(s string) string {
	return roffLine(strings.ReplaceAll(s, "\n", " "))
}

func roffLine(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffArg is roff for the argument of a macro (.B, .TP): quoted.
func roffArg(s string) string {
	return `"` + strings.ReplaceAll(roff(s), `"`, `\(dq`) + `"`
}
