package main

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/trust"
	"github.com/ctrsh/ctrsh/scripts"
)

// playbookEntry is a playbook `ctrsh run NAME` finds: its name, where it
// is, and the description it declares.
type playbookEntry struct {
	Name, From, Description string
}

// listPlaybooks lists the playbooks in the order `ctrsh run` searches
// them (the first of a name hides the others): the playbook directories,
// then the bundled ones. Files are read as a run reads them (trust
// checks; a FIFO does not hang the list); a refused one says why.
func listPlaybooks() []playbookEntry {
	var out []playbookEntry
	seen := map[string]bool{}
	for _, dir := range playbookDirs() {
		files, _ := filepath.Glob(filepath.Join(dir, "*.lua"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".lua")
			if seen[name] {
				continue
			}
			seen[name] = true
			desc := ""
			if tf, err := trust.ReadFile(f); err == nil {
				desc = scripts.Description(tf.Source)
			} else if errors.Is(err, trust.ErrUntrusted) {
				desc = "(refused: " + strings.TrimPrefix(err.Error(), trust.ErrUntrusted.Error()+": ") + ")"
			}
			out = append(out, playbookEntry{Name: name, From: dir, Description: desc})
		}
	}
	for _, name := range scripts.Names() {
		if seen[name] {
			continue
		}
		src, _ := scripts.Source(name)
		out = append(out, playbookEntry{Name: name, From: "bundled", Description: scripts.Description(src)})
	}
	return out
}

// playbookDocs is listPlaybooks for help("word").
func playbookDocs() []luax.PlaybookDoc {
	var out []luax.PlaybookDoc
	for _, p := range listPlaybooks() {
		out = append(out, luax.PlaybookDoc{Name: p.Name, Description: p.Description})
	}
	return out
}
