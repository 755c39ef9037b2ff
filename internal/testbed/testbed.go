// Package testbed serves the real kernel dumps committed under
// testdata/dumps to tests (internal/sample finds and decompresses them);
// a missing fixture is a failure, never a skip: the test bed is the oracle.
package testbed

import (
	"testing"

	"gocrash/internal/sample"
)

// DefaultName and DefaultFormat name the sample dump gocrash opens when it
// is started with no arguments.
const (
	DefaultName   = sample.DefaultName
	DefaultFormat = sample.DefaultFormat
	TestModule    = sample.TestModule
)

// Dump is one committed dump in one format, ready to open.
type Dump = sample.Dump

// Entry names one committed dump and format.
type Entry = sample.Entry

// Root, List, Locate, Default, CacheDir and Decompressed are internal/sample's.
var (
	Root         = sample.Root
	List         = sample.List
	Locate       = sample.Locate
	Default      = sample.Default
	CacheDir     = sample.CacheDir
	Decompressed = sample.Decompressed
)

// Open is Locate for tests: a missing or broken fixture fails the test.
func Open(t testing.TB, name, format string) Dump {
	t.Helper()
	d, err := Locate(name, format)
	if err != nil {
		t.Fatalf("test bed: %v", err)
	}
	return d
}

// All opens every committed dump and format.
func All(t testing.TB) []Dump {
	t.Helper()
	entries, err := List()
	if err != nil {
		t.Fatalf("test bed: %v", err)
	}
	out := make([]Dump, 0, len(entries))
	for _, e := range entries {
		out = append(out, Open(t, e.Name, e.Format))
	}
	return out
}
