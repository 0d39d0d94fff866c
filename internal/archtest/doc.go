// Package archtest holds the tests of the import graph's rules
// (docs/architecture.md, "Import graph"); it has no code of its own.
package archtest
