package commands

import (
	"context"
	"testing"

	"gocrash/internal/testbed"
)

// TestExplainDumpAlone: explain from the dump alone (no vmlinux: kallsyms,
// BTF, ORC; gocrash triage's fallback) names the same cause, release and
// panic task as with the vmlinux, and the same signature.
func TestExplainDumpAlone(t *testing.T) {
	for _, d := range testbed.All(t) {
		d := d
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			with := openTestbed(t, d)
			want, err := with.Explain(context.Background())
			with.Close()
			if err != nil {
				t.Fatal(err)
			}
			alone, err := Open("", d.Vmcore, Options{})
			if err != nil {
				t.Skipf("the dump alone does not open: %v", err)
			}
			defer alone.Close()
			got, err := alone.ExplainWith(context.Background(), ExplainOptions{Quick: true})
			if err != nil {
				t.Fatal(err)
			}
			if got.Cause.Kind != want.Cause.Kind || got.Release != want.Release || got.Signature != want.Signature {
				t.Errorf("alone: %s %s %s (%s), with the vmlinux: %s %s %s (%s); not read alone: %q", got.Cause.Kind, got.Release, got.Signature, got.SignatureOf,
					want.Cause.Kind, want.Release, want.Signature, want.SignatureOf, got.Problems)
			}
			if got.Task == nil || want.Task == nil || got.Task.PID != want.Task.PID || got.Task.CPU != want.Task.CPU || got.Task.Command != want.Task.Command {
				t.Errorf("alone: task %+v, with the vmlinux %+v", got.Task, want.Task)
			}
		})
	}
}
