package kernel

import (
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// TestUtsname: init_uts_ns is what crash's sys shows as NODENAME,
// RELEASE, VERSION and MACHINE, on every committed dump.
func TestUtsname(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			sys, ok := d.Golden("sys")
			if !ok {
				t.Skip("no sys answer recorded")
			}
			field := func(name string) string {
				for _, l := range strings.Split(sys, "\n") {
					if k, v, ok := strings.Cut(l, ": "); ok && strings.TrimSpace(k) == name {
						return v
					}
				}
				return ""
			}
			k, err := Open(d.Vmlinux, d.Vmcore, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			u, err := k.Utsname()
			if err != nil {
				t.Fatal(err)
			}
			machine, _, _ := strings.Cut(field("MACHINE"), "  (")
			for _, c := range []struct{ got, want, what string }{
				{u.Nodename, field("NODENAME"), "nodename"},
				{u.Release, field("RELEASE"), "release"},
				{u.Version, field("VERSION"), "version"},
				{u.Machine, machine, "machine"},
			} {
				if c.got != c.want {
					t.Errorf("%s %q, crash's sys: %q", c.what, c.got, c.want)
				}
			}
		})
	}
}
